/**
 * One request's trip upstream and back. Start at {@link io.brainstorm.proxy.relay.Exchange}: the
 * state machine of one request's relay (connecting, waiting for the response head, streaming or
 * aggregating, done), made by the server's API handler once a request is routed and admitted. With
 * the helpers it delegates to, it tries the route's endpoints in order and fails over, keeps the
 * request's deadlines, writes what the client sees (governance headers, the rewritten usage event,
 * the stream's error event) and ends the request exactly once: budget ticket, breaker verdict and
 * completion record. Results go to the gateway's {@link io.brainstorm.proxy.relay.Settlement}.
 * Its helpers, one concern each, all on the request's event loop: {@code Attempts} (which endpoint
 * next, breaker permits, failover, panic mode), {@code UpstreamCall} (the attempt's connection),
 * {@code Deadline} (the one timer), {@code Timeline} (the request's timestamps), {@code ClientView}
 * (headers, trailers, {@code x_br}, the error event), {@code Bill} (cost and budget ticket), and
 * {@code WholeAnswer} / {@code StreamedAnswer} (the answer in the aggregating and streaming states).
 *
 * <p>The bytes of a streamed answer are {@link io.brainstorm.proxy.relay.StreamRelay}'s:
 * {@link io.brainstorm.proxy.relay.SseEventSplitter} cuts the body into Server-Sent Events without
 * copying, {@link io.brainstorm.proxy.relay.SseEvents} inspects ({@code [DONE]}, usage, comments)
 * and writes single events. {@link io.brainstorm.proxy.relay.AnswerCheck} decides whether a 2xx
 * answer is what it claims before it is relayed. How failover, timeouts and panic mode work:
 * {@code docs/architecture.md} §7.
 *
 * <p>Other wire formats ride on the same machine: {@code AnthropicAttempt} is one attempt at an
 * Anthropic endpoint (the request translated, the answer translated back before it is checked, so
 * everything after sees an OpenAI answer), and {@link io.brainstorm.proxy.relay.MessagesClient} a
 * client of the Anthropic Messages API ({@code POST /v1/messages}), whose answers
 * {@code MessagesAnswer} and {@code MessagesEvents} write in Anthropic's shape (docs/messages-api.md).
 */
package io.brainstorm.proxy.relay;
