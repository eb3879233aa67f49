/**
 * The client-facing listener: {@link io.brainstorm.proxy.server.GatewayServer} wires and runs the gateway; {@link io.brainstorm.proxy.server.ServerChannelInitializer} builds each connection's pipeline (HTTP/1.1 and h2c into one handler chain); {@link io.brainstorm.proxy.server.ApiHandler} dispatches each request. Start here to follow a request.
 */
package io.brainstorm.proxy.server;
