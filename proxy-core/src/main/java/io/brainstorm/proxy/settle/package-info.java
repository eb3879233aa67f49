/**
 * How a request ended, what it cost and how good the answer was: {@link io.brainstorm.proxy.settle.Cost}
 * computes integer nano-USD from {@link io.brainstorm.proxy.settle.Usage} and a price;
 * {@link io.brainstorm.proxy.settle.UsageParser} reads OpenAI's usage object, and
 * {@code translate.AnthropicResponse.Usage#toSettle()} turns Anthropic's counts (cache writes kept
 * apart) into a {@link io.brainstorm.proxy.settle.Usage}.
 * {@link io.brainstorm.proxy.settle.Scorer} scores answers 0..1 (docs/architecture.md §8) against the
 * {@link io.brainstorm.proxy.settle.ScoreSpec} read from the request, whole or from a stream's
 * {@link io.brainstorm.proxy.settle.StreamCapture}; {@link io.brainstorm.proxy.settle.Scoring} runs
 * it off the event loops. Every API request gets a {@link io.brainstorm.proxy.settle.Completion.Builder}
 * when it arrives; each stage fills its part and the one that ends the request (the server for a
 * refusal, the exchange otherwise) builds the {@link io.brainstorm.proxy.settle.Completion}, fanned out
 * by {@link io.brainstorm.proxy.settle.Completions}.
 */
package io.brainstorm.proxy.settle;
