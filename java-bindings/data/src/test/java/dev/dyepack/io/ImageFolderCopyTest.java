package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import dev.dyepack.io.ImageFolderTest.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copying an image folder's unchanged files (the native batch copy where the library loads): every file
 * arrives byte for byte under its own name with the SHA-256 {@code MessageDigest} gives its input, and of
 * several bad files the one first in the folder's order is named while nothing appears at the destination.
 */
class ImageFolderCopyTest {
    @TempDir
    Path dir;

    private Path folder(int n) throws IOException {
        Path root = dir.resolve("in");
        for (int i = 0; i < n; i++) {
            int[] values = new int[8 * 6];
            for (int v = 0; v < values.length; v++) {
                values[v] = (i * 37 + v * 11) & 0xff;
            }
            Images.gray(root.resolve("class-" + (i % 3)).resolve(String.format("img-%03d.png", i)), 8, 6, values);
        }
        return root;
    }

    @Test
    void unchangedFilesAreTheInputsBytesWithTheirDigests() throws Exception {
        ImageFolder f = ImageFolder.scan(folder(40));
        long[] labels = new long[(int) f.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = f.label(i);
        }
        Path out = dir.resolve("out");
        Map<String, String> in;
        Map<String, String> written;
        try (ImageFolder.Copy copy = f.copy(out, labels, ImageFolder.LinkMode.COPY)) {
            copy.copyUnchanged(new long[0]);
            in = copy.inputDigests();
            written = copy.outputDigests();
            copy.commit();
        }
        assertEquals(40, in.size());
        for (int i = 0; i < f.size(); i++) {
            Path source = f.file(i);
            String rel = source.getParent().getFileName() + "/" + source.getFileName();
            byte[] bytes = Files.readAllBytes(source);
            assertArrayEquals(bytes, Files.readAllBytes(out.resolve(rel)), rel);
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            assertEquals(sha, in.get(rel), rel);
            assertEquals(sha, written.get(rel), rel);
        }
    }

    @Test
    void ofSeveralBadFilesTheFirstIsNamedAndNothingAppears() throws Exception {
        Path root = folder(40);
        ImageFolder f = ImageFolder.scan(root);
        long[] labels = new long[(int) f.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = f.label(i);
        }
        // A damaged file (half a PNG) before a missing one, then the other way round.
        Path damaged = f.file(7);
        byte[] png = Files.readAllBytes(damaged);
        Files.write(damaged, Arrays.copyOf(png, png.length / 2));
        Files.delete(f.file(21));
        Path out = dir.resolve("out");
        try (ImageFolder.Copy copy = f.copy(out, labels, ImageFolder.LinkMode.COPY)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> copy.copyUnchanged(new long[0]));
            assertTrue(e.getMessage().startsWith(damaged + ": "), e.getMessage());
            assertThrows(IllegalStateException.class, copy::commit);
        }
        assertFalse(Files.exists(out));

        Files.write(damaged, png);
        Files.delete(f.file(3));
        try (ImageFolder.Copy copy = f.copy(out, labels, ImageFolder.LinkMode.COPY)) {
            NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> copy.copyUnchanged(new long[0]));
            assertTrue(e.getMessage().contains(f.file(3).toString()), e.getMessage());
        }
        assertFalse(Files.exists(out));
    }
}
