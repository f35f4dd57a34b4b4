package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyReaderTest {
    @TempDir
    Path dir;

    /** Shape (10, 3, 4) uint8 whose byte i is i mod 256: sample s is bytes 12s .. 12s+11. */
    private Path images() throws IOException {
        return NpyBytes.write(dir.resolve("img.npy"), NpyBytes.v1("|u1", "(10, 3, 4)", NpyBytes.counting(120)));
    }

    private static byte[] remainingOf(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        d.flip();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    @Test
    void reportsSamplesAndSampleBytes() throws IOException {
        try (NpyReader r = NpyReader.open(images())) {
            assertEquals(10, r.samples());
            assertEquals(12, r.sampleBytes());
            assertArrayEquals(new long[] {10, 3, 4}, r.header().shape());
        }
        Path nhwc = NpyBytes.write(dir.resolve("nhwc.npy"), NpyBytes.v1("<f4", "(2, 5, 5, 3)", new byte[2 * 75 * 4]));
        try (NpyReader r = NpyReader.open(nhwc)) {
            assertEquals(2, r.samples());
            assertEquals(300, r.sampleBytes());
        }
        Path labels = NpyBytes.write(dir.resolve("l.npy"), NpyBytes.v1("<i8", "(7,)", new byte[56]));
        try (NpyReader r = NpyReader.open(labels)) {
            assertEquals(7, r.samples());
            assertEquals(8, r.sampleBytes());
        }
    }

    @Test
    void readsSamplesAtOffsetsIntoHeapAndDirectBuffers() throws IOException {
        try (NpyReader r = NpyReader.open(images())) {
            for (ByteBuffer dst : new ByteBuffer[] {ByteBuffer.allocate(100), ByteBuffer.allocateDirect(100)}) {
                dst.position(3); // written at the position, not at 0
                r.readSamples(4, 3, dst);
                assertEquals(3 + 36, dst.position());
                byte[] got = Arrays.copyOfRange(remainingOf(dst), 3, 39);
                assertArrayEquals(Arrays.copyOfRange(NpyBytes.counting(120), 48, 84), got);
            }
            ByteBuffer last = ByteBuffer.allocate(12);
            r.readSamples(9, 1, last);
            assertArrayEquals(Arrays.copyOfRange(NpyBytes.counting(120), 108, 120), last.array());

            ByteBuffer all = ByteBuffer.allocate(120);
            r.readSamples(0, 10, all);
            assertArrayEquals(NpyBytes.counting(120), all.array());

            ByteBuffer none = ByteBuffer.allocate(0);
            r.readSamples(10, 0, none); // an empty range at the end is fine
        }
    }

    @Test
    void rank1SampleIsOneElement() throws IOException {
        long[] values = {5, -6, 7, 1L << 40};
        Path f = NpyBytes.write(dir.resolve("v.npy"), NpyBytes.v1("<i8", "(4,)", NpyBytes.littleEndian(8, values)));
        try (NpyReader r = NpyReader.open(f)) {
            ByteBuffer b = ByteBuffer.allocate(16);
            r.readSamples(2, 2, b);
            assertArrayEquals(NpyBytes.littleEndian(8, 7, 1L << 40), b.array());
        }
    }

    @Test
    void rejectsRangesAcrossTheEndAndBadArguments() throws IOException {
        try (NpyReader r = NpyReader.open(images())) {
            ByteBuffer big = ByteBuffer.allocate(1000);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> r.readSamples(8, 3, big));
            assertTrue(e.getMessage().contains("past the end"), e.getMessage());
            assertEquals(0, big.position());
            assertThrows(InvalidArgumentException.class, () -> r.readSamples(11, 0, big));
            assertThrows(InvalidArgumentException.class, () -> r.readSamples(-1, 1, big));
            assertThrows(InvalidArgumentException.class, () -> r.readSamples(0, -1, big));
            assertThrows(InvalidArgumentException.class, () -> r.readSamples(Long.MAX_VALUE, 1, big));
            assertThrows(InvalidArgumentException.class, () -> r.readSamples(0, 1, null));
            assertThrows(InvalidArgumentException.class, () -> r.readSamples(0, 2, ByteBuffer.allocate(23)));
            assertThrows(InvalidArgumentException.class,
                    () -> r.readSamples(0, 1, ByteBuffer.allocate(12).asReadOnlyBuffer()));
        }
    }

    @Test
    void fileShrunkAfterOpeningIsReportedTruncated() throws IOException {
        Path f = images();
        try (NpyReader r = NpyReader.open(f)) {
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(128 + 50); // the 128-byte header plus 50 of the 120 data bytes
            }
            ByteBuffer ok = ByteBuffer.allocate(48);
            r.readSamples(0, 4, ok); // still inside what is left
            ByteBuffer dst = ByteBuffer.allocate(60);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> r.readSamples(0, 5, dst));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
            assertEquals(0, dst.position());
        }
    }

    @Test
    void openRejectsWhatReadHeaderRejects() throws IOException {
        Path f = NpyBytes.write(dir.resolve("short.npy"), NpyBytes.v1("|u1", "(10, 3, 4)", new byte[100]));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> NpyReader.open(f));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> NpyReader.open(dir.resolve("missing.npy")));
    }

    @Test
    void closedReaderRefusesReadsAndClosesTwiceSafely() throws IOException {
        NpyReader r = NpyReader.open(images());
        r.close();
        r.close();
        assertThrows(IllegalStateException.class, () -> r.readSamples(0, 1, ByteBuffer.allocate(12)));
    }
}
