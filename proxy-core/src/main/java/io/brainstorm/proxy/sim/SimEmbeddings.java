package io.brainstorm.proxy.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The sim's embeddings: reads an OpenAI {@code input} (a string, strings, or token arrays), draws
 * each text's unit vector from its hash (the same text always embeds the same way) and frames
 * them as OpenAI's {@code list} of {@code embedding} objects. {@link SimHandler} checks the request
 * and applies faults and delays around it.
 */
final class SimEmbeddings {
    static final int DEFAULT_DIMENSIONS = 8;
    static final int MAX_DIMENSIONS = 4096;

    private SimEmbeddings() {}

    /**
     * The answer body: one embedding of {@code dimensions} per text, as floats or as base64 of
     * little-endian floats; usage (the prompt tokens of all texts) unless {@code withUsage} is false.
     */
    static ObjectNode list(
            ObjectMapper json,
            List<String> texts,
            List<Long> tokens,
            int dimensions,
            boolean base64,
            String model,
            boolean withUsage) {
        ObjectNode root = json.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        long promptTokens = 0;
        for (int i = 0; i < texts.size(); i++) {
            float[] vector = vector(texts.get(i), dimensions);
            ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
            if (base64) {
                ByteBuffer bytes =
                        ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : vector) {
                    bytes.putFloat(f);
                }
                item.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
            } else {
                ArrayNode values = item.putArray("embedding");
                for (float f : vector) {
                    values.add(f);
                }
            }
            promptTokens += tokens.get(i);
        }
        root.put("model", model);
        if (withUsage) {
            root.putObject("usage").put("prompt_tokens", promptTokens).put("total_tokens", promptTokens);
        }
        return root;
    }

    /** Reads {@code input} into texts and their token counts; false when it has no usable shape. */
    static boolean inputs(JsonNode input, List<String> texts, List<Long> tokens) {
        if (input == null) {
            return false;
        }
        if (input.isTextual()) {
            texts.add(input.asText());
            tokens.add(tokens(input.asText()));
            return true;
        }
        if (!input.isArray() || input.isEmpty()) {
            return false;
        }
        if (input.get(0).isIntegralNumber()) {
            // one prompt given as token ids
            texts.add("tokens:" + input);
            tokens.add((long) input.size());
            return true;
        }
        for (JsonNode item : input) {
            if (item.isTextual()) {
                texts.add(item.asText());
                tokens.add(tokens(item.asText()));
            } else if (item.isArray() && !item.isEmpty()) {
                texts.add("tokens:" + item);
                tokens.add((long) item.size());
            } else {
                return false;
            }
        }
        return true;
    }

    /** A unit vector drawn from the text's hash: the same text always embeds the same way. */
    static float[] vector(String text, int dimensions) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        SplittableRandom rng = new SplittableRandom(hash);
        float[] vector = new float[dimensions];
        double norm = 0;
        for (int i = 0; i < dimensions; i++) {
            vector[i] = (float) (rng.nextDouble() * 2 - 1);
            norm += vector[i] * vector[i];
        }
        float scale = (float) (1 / Math.sqrt(Math.max(norm, 1e-12)));
        for (int i = 0; i < dimensions; i++) {
            vector[i] *= scale;
        }
        return vector;
    }

    /** About four characters a token, at least one. */
    static long tokens(String text) {
        return Math.max(1, (text.length() + 3) / 4);
    }
}
