package io.brainstorm.proxy.bench;
final class Placeholder {}
