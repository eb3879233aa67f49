package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The request targets of Azure OpenAI's two URL forms. */
class AzureTargetTest {

    @Test
    void theDeploymentFormPutsTheDeploymentInThePathAndTheVersionInTheQuery() {
        AzureTarget t = new AzureTarget("my-gpt4o", "2024-10-21", false, false);
        assertEquals(
                "/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21",
                t.target("", "/chat/completions"));
        assertEquals(
                "/gw/openai/deployments/my-gpt4o/embeddings?api-version=2024-10-21", t.target("/gw", "/embeddings"));
    }

    @Test
    void theV1FormKeepsThePathAndAddsAVersionOnlyWhenSet() {
        assertEquals(
                "/openai/v1/chat/completions",
                new AzureTarget("d", null, true, false).target("/openai/v1", "/chat/completions"));
        assertEquals(
                "/openai/v1/chat/completions?api-version=preview",
                new AzureTarget("d", "preview", true, false).target("/openai/v1", "/chat/completions"));
    }

    @Test
    void aDeploymentNameIsEscapedInThePath() {
        assertEquals(
                "/openai/deployments/a%20b/chat/completions?api-version=2024-10-21",
                new AzureTarget("a b", "2024-10-21", false, false).target("", "/chat/completions"));
    }
}
