package io.brainstorm.proxy.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import java.io.IOException;
import java.math.BigDecimal;

/**
 * Writes a body the gateway passes on: a decimal goes out the way a person wrote it
 * ({@code 0.000000001}, {@code 0.70}), except where that would inflate it: a number such as
 * {@code 4E9999} keeps its exponent form instead of becoming ten thousand digits, so a small body
 * can never grow into a huge one on its way upstream.
 */
final class PassThroughGenerator extends JsonGeneratorDelegate {
    /** Beyond this many places either side of the point, a decimal keeps its exponent form. */
    static final int MAX_PLAIN_SCALE = 30;

    PassThroughGenerator(JsonGenerator delegate) {
        super(delegate, false);
    }

    @Override
    public void writeNumber(BigDecimal v) throws IOException {
        if (v == null) {
            writeNull();
            return;
        }
        int scale = v.scale();
        delegate.writeNumber(scale >= -MAX_PLAIN_SCALE && scale <= MAX_PLAIN_SCALE ? v.toPlainString() : v.toString());
    }
}
