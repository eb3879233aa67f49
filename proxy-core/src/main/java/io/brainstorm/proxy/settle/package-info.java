/**
 * What an answer cost: {@link io.brainstorm.proxy.settle.Cost} computes integer nano-USD from {@link io.brainstorm.proxy.settle.Usage} and a price; {@link io.brainstorm.proxy.settle.UsageParser} reads OpenAI's usage object.
 */
package io.brainstorm.proxy.settle;
