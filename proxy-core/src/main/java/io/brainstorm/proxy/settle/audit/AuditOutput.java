package io.brainstorm.proxy.settle.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Opens the day files the audit writer appends to: {@link #FILES} in production, one that fails or
 * blocks in tests.
 */
@FunctionalInterface
interface AuditOutput {
    AuditOutput FILES = FileOut::new;

    Out open(Path file) throws IOException;

    /** An open day file. */
    interface Out extends AutoCloseable {
        long size() throws IOException;

        /** Writes all of {@code src} at {@code position}. */
        void write(ByteBuffer src, long position) throws IOException;

        void force() throws IOException;

        void truncate(long size) throws IOException;

        @Override
        void close() throws IOException;
    }

    /**
     * Opens {@code file}, created with mode 0600 when it does not exist (records may hold prompts and
     * answers), where the file system has POSIX modes.
     */
    static FileChannel openPrivate(Path file, StandardOpenOption... options) throws IOException {
        Set<StandardOpenOption> set = EnumSet.of(options[0], options);
        try {
            return FileChannel.open(
                    file, set, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            return FileChannel.open(file, set);
        }
    }

    /** A day file on disk. */
    final class FileOut implements Out {
        private final FileChannel ch;

        FileOut(Path file) throws IOException {
            this.ch = openPrivate(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            long p = position;
            while (src.hasRemaining()) {
                p += ch.write(src, p);
            }
        }

        @Override
        public void force() throws IOException {
            ch.force(false);
        }

        @Override
        public void truncate(long size) throws IOException {
            ch.truncate(size);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
