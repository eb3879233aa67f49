package io.brainstorm.proxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.EndpointSpec;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Price;
import io.brainstorm.proxy.config.SimProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK talks to the sim unchanged: the sim is a faithful enough upstream. */
class SimServerSdkTest {

    private static final Price PRICE = new Price(1, 2, 0);
    private static final SimProfile INSTANT = new SimProfile(0, 0, 0, 1.0, 0.0);

    private SimServer sim;
    private OpenAIClient client;

    @BeforeEach
    void start() throws InterruptedException {
        EndpointSpec east = new EndpointSpec("sim-east", PRICE, INSTANT);
        sim = new SimServer(
                List.of(
                        new ModelSpec(
                                "sim/alpha",
                                "sim",
                                null,
                                List.of(),
                                8192,
                                1024,
                                PRICE,
                                Set.of(Capability.JSON),
                                true,
                                List.of(east),
                                1_700_000_000L),
                        new ModelSpec(
                                "sim/emb",
                                "sim",
                                null,
                                List.of(),
                                8192,
                                0,
                                PRICE,
                                Set.of(Capability.EMBEDDINGS),
                                true,
                                List.of(east),
                                1_700_000_000L)),
                new SimServer.Options(7, true, false));
        sim.start("127.0.0.1", 0);
        client = OpenAIOkHttpClient.builder()
                .baseUrl(sim.baseUrl("sim-east").toString())
                .apiKey(SimServer.API_KEY)
                .maxRetries(0)
                .build();
    }

    @AfterEach
    void stop() {
        client.close();
        sim.close();
    }

    @Test
    void chat() {
        ChatCompletion completion = client.chat()
                .completions()
                .create(ChatCompletionCreateParams.builder()
                        .model("alpha")
                        .addUserMessage("hello")
                        .build());
        assertTrue(completion.choices().get(0).message().content().orElseThrow().startsWith("Simulated answer"));
        assertTrue(completion.usage().orElseThrow().completionTokens() > 0);
    }

    @Test
    void streamedChat() {
        List<String> pieces = new ArrayList<>();
        long[] completionTokens = {-1};
        try (StreamResponse<ChatCompletionChunk> stream = client.chat()
                .completions()
                .createStreaming(ChatCompletionCreateParams.builder()
                        .model("alpha")
                        .addUserMessage("hello")
                        .streamOptions(ChatCompletionStreamOptions.builder()
                                .includeUsage(true)
                                .build())
                        .build())) {
            stream.stream().forEach(chunk -> {
                chunk.usage().ifPresent(usage -> completionTokens[0] = usage.completionTokens());
                chunk.choices()
                        .forEach(choice -> choice.delta()
                                .content()
                                .filter(text -> !text.isEmpty())
                                .ifPresent(pieces::add));
            });
        }
        assertEquals(pieces.size(), completionTokens[0]);
    }

    @Test
    void embeddingsInTheSdkDefaultEncoding() {
        CreateEmbeddingResponse response = client.embeddings()
                .create(EmbeddingCreateParams.builder()
                        .model("emb")
                        .input("hello world")
                        .build());
        assertEquals(8, response.data().get(0).embedding().size());
        assertTrue(
                sim.lastRequest().body().contains("base64"), sim.lastRequest().body());
    }

    @Test
    void wrongKeyIsUnauthorized() {
        OpenAIClient wrong = OpenAIOkHttpClient.builder()
                .baseUrl(sim.baseUrl("sim-east").toString())
                .apiKey("br_live_x")
                .maxRetries(0)
                .build();
        try {
            assertThrows(
                    UnauthorizedException.class,
                    () -> wrong.chat()
                            .completions()
                            .create(ChatCompletionCreateParams.builder()
                                    .model("alpha")
                                    .addUserMessage("hi")
                                    .build()));
        } finally {
            wrong.close();
        }
    }
}
