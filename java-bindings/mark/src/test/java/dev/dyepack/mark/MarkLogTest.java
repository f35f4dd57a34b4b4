package dev.dyepack.mark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.UntrustedRecordException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MarkLogTest {
    private static final OwnerKey KEY = new OwnerKey("mark log test key, thirty-two by".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    private static MarkEntry entry(int i) {
        byte[] q = new byte[100];
        q[i % 100] = (byte) i;
        return new MarkEntry(0, Instant.EPOCH, "client-" + (i % 3), String.format("%064x", i), i % 2 == 0, i % 10,
                (i + 1) % 10, 10, 0.01f * (i % 7), 0.05f, "u1", new long[] {10, 10}, q);
    }

    private static List<MarkEntry> entries(int from, int count) {
        List<MarkEntry> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            out.add(entry(i));
        }
        return out;
    }

    private static void assertSame(MarkEntry expected, MarkEntry actual) {
        assertEquals(expected.client(), actual.client());
        assertEquals(expected.digest(), actual.digest());
        assertEquals(expected.marked(), actual.marked());
        assertEquals(expected.top(), actual.top());
        assertEquals(expected.runnerUp(), actual.runnerUp());
        assertEquals(expected.margin(), actual.margin());
        assertArrayEquals(expected.query(), actual.query());
        assertArrayEquals(expected.shape(), actual.shape());
    }

    @Test
    void acknowledgedEntriesAreReadBackInOrderAcrossRotatedSegments() throws IOException {
        Path log = dir.resolve("log");
        try (MarkLog l = MarkLog.open(log, KEY, 4096, 1 << 20)) {
            for (int b = 0; b < 10; b++) {
                l.append(entries(b * 7, 7));
            }
        }
        try (MarkLog l = MarkLog.open(log, KEY, 4096, 1 << 20)) {
            assertEquals(70, l.loaded().size());
            l.append(entries(70, 5));
        }
        MarkLog.Contents c = MarkLog.read(log, KEY);
        assertEquals(75, c.answers().size());
        assertTrue(c.segments() > 3, c.segments() + " segments");
        for (int i = 0; i < 75; i++) {
            assertEquals(i, c.answers().get(i).seq());
            assertSame(entry(i), c.answers().get(i));
        }
    }

    @Test
    void aPartialLastLineIsCutOffAndEverythingAcknowledgedKept() throws IOException {
        Path log = dir.resolve("log");
        try (MarkLog l = MarkLog.open(log, KEY)) {
            l.append(entries(0, 20));
        }
        Path seg = log.resolve("marks-000001.log");
        long size = Files.size(seg);
        // A crash in the middle of the next append: half a line, no newline.
        String line = Files.readAllLines(seg).get(5);
        Files.writeString(seg, line.substring(0, line.length() / 2), StandardOpenOption.APPEND);
        MarkLog.Contents read = MarkLog.read(log, KEY);
        assertEquals(20, read.answers().size());
        assertEquals(line.length() / 2, read.droppedTailBytes());
        try (MarkLog l = MarkLog.open(log, KEY)) {
            assertEquals(line.length() / 2, l.droppedTailBytes());
            assertEquals(size, Files.size(seg), "the partial line is cut off");
            l.append(entries(20, 3));
        }
        assertEquals(23, MarkLog.read(log, KEY).answers().size());
    }

    @Test
    void tamperingIsDetectedAnywhere() throws IOException {
        Path log = dir.resolve("log");
        try (MarkLog l = MarkLog.open(log, KEY, 4096, 1 << 20)) {
            for (int b = 0; b < 10; b++) {
                l.append(entries(3 * b, 3));
            }
        }
        assertTrue(Files.exists(log.resolve("marks-000003.log")));
        Path seg = log.resolve("marks-000001.log");
        List<String> lines = Files.readAllLines(seg);
        // Give the third line's answer to another client.
        List<String> changed = new ArrayList<>(lines);
        changed.set(2, lines.get(2).replace("\"client\":\"client-", "\"client\":\"other-"));
        assertTrue(!changed.get(2).equals(lines.get(2)));
        Files.write(seg, changed);
        UntrustedRecordException e = assertThrows(UntrustedRecordException.class, () -> MarkLog.read(log, KEY));
        assertTrue(e.getMessage().contains("marks-000001.log:3"), e.getMessage());
        assertThrows(UntrustedRecordException.class, () -> MarkLog.open(log, KEY).close());
        // A removed line.
        changed = new ArrayList<>(lines);
        changed.remove(4);
        Files.write(seg, changed);
        assertThrows(UntrustedRecordException.class, () -> MarkLog.read(log, KEY));
        Files.write(seg, lines);
        assertEquals(30, MarkLog.read(log, KEY).answers().size());
        // A removed segment in the middle.
        Files.move(log.resolve("marks-000002.log"), dir.resolve("aside"));
        assertTrue(assertThrows(UntrustedRecordException.class, () -> MarkLog.read(log, KEY)).getMessage()
                .contains("missing"));
        Files.move(dir.resolve("aside"), log.resolve("marks-000002.log"));
        // Another key.
        OwnerKey other = new OwnerKey("another owner's key of 32 bytes!".getBytes(StandardCharsets.UTF_8));
        assertThrows(UntrustedRecordException.class, () -> MarkLog.read(log, other));
    }

    @Test
    void oneWriterAtATimeAndABoundedSize() throws IOException {
        Path log = dir.resolve("log");
        try (MarkLog l = MarkLog.open(log, KEY, 4096, 64 << 10)) {
            assertThrows(InvalidInputException.class, () -> MarkLog.open(log, KEY).close());
            int appended = 0;
            while (l.hasRoom(5)) {
                l.append(entries(appended, 5));
                appended += 5;
            }
            assertThrows(IllegalStateException.class, () -> l.append(entries(0, 5)));
            assertTrue(appended > 0);
            long total;
            try (var files = Files.list(log)) {
                total = files.filter(p -> p.getFileName().toString().endsWith(".log")).mapToLong(p -> p.toFile()
                        .length()).sum();
            }
            assertTrue(total <= 64 << 10, total + " bytes");
        }
    }
}
