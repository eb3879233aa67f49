/**
 * An example third-party routing strategy for brainstorm-proxy, written against
 * {@code io.brainstorm.proxy.spi} only: {@link com.example.brainstorm.sticky.StickyStrategyProvider}
 * is the entry point, {@link com.example.brainstorm.sticky.StickyStrategy} the strategy. Walked
 * through in {@code docs/plugins.md}.
 */
package com.example.brainstorm.sticky;
