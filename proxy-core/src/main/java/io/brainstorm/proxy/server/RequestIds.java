package io.brainstorm.proxy.server;

import java.util.concurrent.ThreadLocalRandom;

/** Request ids: {@code req_} and 24 base62 characters (143 random bits), unique in practice. */
final class RequestIds {
    private static final char[] BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    private RequestIds() {}

    static String next() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        char[] out = new char[28];
        out[0] = 'r';
        out[1] = 'e';
        out[2] = 'q';
        out[3] = '_';
        for (int i = 4; i < out.length; i++) {
            out[i] = BASE62[r.nextInt(62)];
        }
        return new String(out);
    }
}
