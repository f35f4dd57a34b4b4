package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole outputs or none: refusal, replacement only at the end, the lock, and leftovers of killed runs. */
class StagedOutputTest {
    @TempDir
    Path dir;

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The id of a process that has exited (a finished child). */
    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long pid = p.pid();
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        return pid;
    }

    @Test
    void aDirectoryAppearsOnlyAtCommitWithAllItsFiles() throws IOException {
        Path out = dir.resolve("out");
        try (StagedOutput s = StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, false)) {
            Files.writeString(s.path().resolve("data.npy"), "data");
            Files.writeString(s.path().resolve("manifest.json"), "{}");
            assertFalse(Files.exists(out), "nothing under the final name before commit");
            assertTrue(Files.exists(dir.resolve(".out.dyepack-lock")), "the destination is locked while staged");
            s.commit();
        }
        assertEquals(List.of("data.npy", "manifest.json"), names(out));
        assertEquals(List.of("out"), names(dir), "no staging directory or lock file is left");
    }

    @Test
    void anAbandonedOutputLeavesNothingNotEvenTheParentsItCreated() throws IOException {
        Path out = dir.resolve("a/b/out");
        try (StagedOutput s = StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, false)) {
            Files.writeString(s.path().resolve("data.npy"), "half");
        }
        assertEquals(List.of(), names(dir));
    }

    @Test
    void anOccupiedDestinationIsRefusedAndReplacedOnlyAtTheFinalRename() throws IOException {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve("data.npy"), "old data");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, false));
        assertTrue(e.getMessage().contains(out + " already exists and is not empty"), e.getMessage());
        assertTrue(e.getMessage().contains("--force"), e.getMessage());
        // Replacing, but failing before commit: the old output is untouched.
        try (StagedOutput s = StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, true)) {
            Files.writeString(s.path().resolve("data.npy"), "new data");
        }
        assertEquals("old data", Files.readString(out.resolve("data.npy")));
        try (StagedOutput s = StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, true)) {
            Files.writeString(s.path().resolve("labels.npy"), "new labels");
            s.commit();
        }
        assertEquals(List.of("labels.npy"), names(out), "the whole old directory is replaced, not merged");
        assertEquals(List.of("out"), names(dir));
    }

    @Test
    void anEmptyDestinationIsNotOccupied() throws IOException {
        Path out = Files.createDirectories(dir.resolve("out"));
        Path file = Files.createFile(dir.resolve("f.npy"));
        try (StagedOutput s = StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, false)) {
            Files.writeString(s.path().resolve("x"), "x");
            s.commit();
        }
        try (StagedOutput s = StagedOutput.begin(file, StagedOutput.Kind.FILE, false)) {
            Files.writeString(s.path(), "y");
            s.commit();
        }
        assertEquals("x", Files.readString(out.resolve("x")));
        assertEquals("y", Files.readString(file));
    }

    @Test
    void aNameWithGlobCharactersIsAnOrdinaryName() throws Exception {
        long dead = deadPid();
        Path left = Files.createDirectories(dir.resolve(".out[1{.dyepack-tmp-" + dead + "-5e"));
        try (StagedOutput s = StagedOutput.begin(dir.resolve("out[1{"), StagedOutput.Kind.FILE, false)) {
            Files.writeString(s.path(), "z");
            s.commit();
        }
        assertFalse(Files.exists(left));
        assertEquals(List.of("out[1{"), names(dir));
    }

    @Test
    void aFileIsReplacedOnlyWhenAskedAndOnlyWhole() throws IOException {
        Path out = Files.writeString(dir.resolve("out.npy"), "old");
        assertThrows(InvalidArgumentException.class, () -> StagedOutput.begin(out, StagedOutput.Kind.FILE, false));
        try (StagedOutput s = StagedOutput.begin(out, StagedOutput.Kind.FILE, true)) {
            Files.writeString(s.path(), "new");
            assertEquals("old", Files.readString(out));
            s.commit();
        }
        assertEquals("new", Files.readString(out));
        assertEquals(List.of("out.npy"), names(dir));
    }

    @Test
    void anInputInsideTheDestinationIsRefusedEvenWhenReplacing() throws IOException {
        Path out = Files.createDirectories(dir.resolve("out"));
        byte[] data = "the owner's data".getBytes(StandardCharsets.UTF_8);
        Path input = Files.write(out.resolve("x.npy"), data);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, true, input));
        assertTrue(e.getMessage().contains("would overwrite the input " + input), e.getMessage());
        e = assertThrows(InvalidArgumentException.class, () -> StagedOutput.begin(input, StagedOutput.Kind.FILE, true,
                input));
        assertTrue(e.getMessage().contains("output " + input + " is the input " + input), e.getMessage());
        assertArrayEquals(data, Files.readAllBytes(input));
        // Nor may an output go inside an input folder (an image folder read as classes).
        Path folder = Files.createDirectories(dir.resolve("images/cat"));
        e = assertThrows(InvalidArgumentException.class, () -> StagedOutput.begin(dir.resolve("images/poisoned"),
                StagedOutput.Kind.DIRECTORY, true, dir.resolve("images")));
        assertTrue(e.getMessage().contains("lies inside the input"), e.getMessage());
        assertEquals(List.of("cat"), names(folder.getParent()));
    }

    @Test
    void aSecondWriterOfTheSameDestinationIsRefusedWhileTheFirstHoldsIt() throws IOException {
        Path out = dir.resolve("out");
        try (StagedOutput first = StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, false)) {
            OutputBusyException e = assertThrows(OutputBusyException.class,
                    () -> StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, true));
            assertTrue(e.getMessage().contains("output " + out + " is being written by another dyepack run"),
                    e.getMessage());
            Files.writeString(first.path().resolve("a"), "a");
            first.commit();
        }
        // Released: the next run may go on.
        try (StagedOutput next = StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, true)) {
            Files.writeString(next.path().resolve("b"), "b");
            next.commit();
        }
        assertEquals(List.of("b"), names(out));
    }

    @Test
    void leftoversOfDeadRunsAreRemovedAndThoseOfLiveOnesNamed() throws Exception {
        long dead = deadPid();
        long live = ProcessHandle.current().parent().orElseThrow().pid();
        Path deadStaging = Files.createDirectories(dir.resolve(".out.dyepack-tmp-" + dead + "-1a"));
        Files.writeString(deadStaging.resolve("data.npy"), "half");
        Path deadFile = Files.writeString(dir.resolve(".out.dyepack-tmp-" + dead + "-2b"), "half");
        Path liveStaging = Files.createDirectories(dir.resolve(".out.dyepack-tmp-" + live + "-3c"));
        Path other = Files.createDirectories(dir.resolve(".other.dyepack-tmp-" + dead + "-4d"));
        Files.writeString(dir.resolve(".out.dyepack-lock"), dead + "\n");
        try (StagedOutput s = StagedOutput.begin(dir.resolve("out"), StagedOutput.Kind.DIRECTORY, false)) {
            assertFalse(Files.exists(deadStaging));
            assertFalse(Files.exists(deadFile));
            assertTrue(Files.exists(liveStaging), "a live process's staging is not touched");
            assertTrue(Files.exists(other), "another destination's staging is not touched");
            String notes = String.join("\n", s.notes());
            assertTrue(notes.contains("removed .out.dyepack-tmp-" + dead + "-1a"), notes);
            assertTrue(notes.contains("left " + liveStaging + " alone: it belongs to process " + live), notes);
            Files.writeString(s.path().resolve("x"), "x");
            s.commit();
        }
        assertEquals("x", Files.readString(dir.resolve("out/x")));
    }

    @Test
    void aReplacementInterruptedBetweenItsRenamesIsUndoneByTheNextRun() throws Exception {
        long dead = deadPid();
        // The old output was set aside and the new one never arrived.
        Path old = Files.createDirectories(dir.resolve(".out.dyepack-old-" + dead + "-9f"));
        Files.writeString(old.resolve("manifest.json"), "old record");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> StagedOutput.begin(dir.resolve("out"), StagedOutput.Kind.DIRECTORY, false));
        assertTrue(e.getMessage().contains("already exists"), "restored, so occupied: " + e.getMessage());
        assertEquals("old record", Files.readString(dir.resolve("out/manifest.json")));
        assertFalse(Files.exists(old));
    }
}
