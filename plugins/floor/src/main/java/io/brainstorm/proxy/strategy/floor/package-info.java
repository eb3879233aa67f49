/**
 * The built-in {@code :floor} routing strategy: cheapest expected cost first. Start at
 * {@link io.brainstorm.proxy.strategy.floor.FloorStrategy}.
 */
package io.brainstorm.proxy.strategy.floor;
