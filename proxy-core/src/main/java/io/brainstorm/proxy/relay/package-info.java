/**
 * Relaying the upstream's answer to the client. Starting points: {@link
 * io.brainstorm.proxy.relay.SseEventSplitter} cuts a streamed body into Server-Sent Events without
 * copying; {@link io.brainstorm.proxy.relay.SseEvents} inspects ({@code [DONE]}, usage, comments)
 * and writes single events; {@code AnswerCheck} decides whether a 2xx
 * answer is what it claims before it is relayed.
 */
package io.brainstorm.proxy.relay;
