/**
 * Configuration: {@link io.brainstorm.proxy.config.ConfigLoader} reads {@code brainstorm.yaml} (with {@code ${ENV}} substitution) into a validated {@link io.brainstorm.proxy.config.GatewayConfig}; {@link io.brainstorm.proxy.config.Catalog} holds the price and capability catalog ({@code models.yaml}).
 */
package io.brainstorm.proxy.config;
