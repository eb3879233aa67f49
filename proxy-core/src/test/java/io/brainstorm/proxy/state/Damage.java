package io.brainstorm.proxy.state;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Damage done to state files by the tests, as a disk error or a crash mid-write would leave them. */
final class Damage {
    private Damage() {}

    /** Overwrites 32 bytes at {@code offset} with text. */
    static byte[] garble(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write("garbage-garbage-garbage-garbage!".getBytes(StandardCharsets.US_ASCII));
        }
        return Files.readAllBytes(file);
    }

    static byte[] truncateToHalf(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        return Files.readAllBytes(file);
    }

    /** Zeros Chronicle's header size word, as its creator leaves it until the header is complete. */
    static byte[] unfinishHeader(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(8);
            f.writeInt(0);
        }
        return Files.readAllBytes(file);
    }

    /** The {@code NAME.corrupt-*} copies beside {@code file}. */
    static List<Path> asideCopies(Path file) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(file.getParent(), file.getFileName() + ".corrupt-*")) {
            s.forEach(out::add);
        }
        return out;
    }
}
