package io.brainstorm.proxy.settle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.strings;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UsageParserTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Usage scan(String answer) {
        // String.getBytes writes a lone surrogate as '?', so the bytes are valid UTF-8 as a provider's are
        ByteBuf buf = Unpooled.wrappedBuffer(answer.getBytes(StandardCharsets.UTF_8));
        try {
            Usage u = UsageParser.fromAnswer(buf, JSON);
            assertEquals(0, buf.readerIndex(), "indexes untouched");
            return u;
        } finally {
            buf.release();
        }
    }

    @Test
    void readsTheUsageOfAnOpenAiAnswer() {
        String answer = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\": {\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":4},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":2}},\"system_fingerprint\":null}";
        assertEquals(new Usage(12, 5, 4, 2), scan(answer));
    }

    @Test
    void noUsageOrNullUsageIsNull() {
        assertNull(scan("{\"id\":\"x\",\"choices\":[]}"));
        assertNull(scan("{\"id\":\"x\",\"usage\":null}"));
        assertNull(scan("{\"usage\":{\"prompt_tokens\":"));
        assertNull(scan(""));
    }

    @Test
    void contentThatTalksAboutUsageIsNotMistakenForIt() {
        String answer =
                "{\"choices\":[{\"message\":{\"content\":\"the \\\"usage\\\": {\\\"prompt_tokens\\\": 999} field\"}}],"
                        + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}";
        assertEquals(new Usage(3, 4, 0, 0), scan(answer));
        assertNull(scan("{\"choices\":[{\"message\":{\"content\":\"\\\"usage\\\":{\\\"prompt_tokens\\\":9}\"}}]}"));
    }

    @Test
    void agreesWithAFullParseWhateverTheContent() {
        qt().forAll(
                        strings().allPossible().ofLengthBetween(0, 200),
                        integers().between(0, 1_000_000),
                        integers().between(0, 1_000_000))
                .checkAssert((content, prompt, completion) -> {
                    ObjectNode answer = JSON.createObjectNode();
                    answer.putArray("choices").addObject().putObject("message").put("content", content);
                    answer.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", completion);
                    String text = answer.toString();
                    assertEquals(UsageParser.parse(answer.get("usage")), scan(text), text);
                });
    }
}
