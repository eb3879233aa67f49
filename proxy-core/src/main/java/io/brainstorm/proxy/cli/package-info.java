/**
 * The command line: {@link io.brainstorm.proxy.cli.Main} ({@code serve}, {@code sim}, {@code version}, {@code help}), started by {@code bin/brainstorm-proxy}.
 */
package io.brainstorm.proxy.cli;
