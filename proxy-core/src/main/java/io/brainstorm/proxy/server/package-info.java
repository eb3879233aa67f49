/**
 * The client-facing listener: {@link io.brainstorm.proxy.server.GatewayServer} wires and runs the gateway; {@link io.brainstorm.proxy.server.ServerChannelInitializer} builds each connection's pipeline (HTTP/1.1 and h2c into one handler chain), with the stages it shares with the admin listener taken from {@link io.brainstorm.proxy.server.HttpPipeline}; {@link io.brainstorm.proxy.server.ApiHandler} dispatches each request. What handlers share is the {@link io.brainstorm.proxy.server.Gateway}, whose {@link io.brainstorm.proxy.server.Services} appear in one piece when start-up finishes. Start here to follow a request.
 */
package io.brainstorm.proxy.server;
