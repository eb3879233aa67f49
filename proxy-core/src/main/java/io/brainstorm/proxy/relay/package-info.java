/**
 * Relaying the upstream's answer to the client. Starting points: {@link
 * io.brainstorm.proxy.relay.SseEventSplitter} cuts a streamed body into Server-Sent Events without
 * copying; {@link io.brainstorm.proxy.relay.SseEvents} inspects ({@code [DONE]}, usage, comments)
 * and writes single events.
 */
package io.brainstorm.proxy.relay;
