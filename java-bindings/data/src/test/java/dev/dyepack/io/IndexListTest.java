package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IndexListTest {
    @TempDir
    Path dir;

    private Path text(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    @Test
    void parsesWhitespaceCommasAndComments() throws IOException {
        Path f = text("idx.txt", "# indices to poison\n"
                + "3, 1,4\n"
                + "  1 5\t9 # the second 1 is kept: read() does not validate\n"
                + "\n"
                + "2,,6 ,5,\r\n"
                + "35#no space before the comment\n"
                + "9223372036854775807");
        assertArrayEquals(new long[] {3, 1, 4, 1, 5, 9, 2, 6, 5, 35, Long.MAX_VALUE}, IndexList.read(f));
    }

    @Test
    void emptyListsAreAllowed() throws IOException {
        assertArrayEquals(new long[0], IndexList.read(text("empty.txt", "")));
        assertArrayEquals(new long[0], IndexList.read(text("comments.txt", "# nothing here\n  \n, ,\n# still nothing")));
        assertArrayEquals(new long[] {7}, IndexList.read(text("bom.txt", "\uFEFF7\n")));
    }

    @Test
    void badTokenNamesFileLineAndToken() throws IOException {
        String[][] cases = {
            {"1, 2\n3\n4 x5 6\n", "3", "x5"},
            {"1\n-2\n", "2", "-2"},
            {"1.5", "1", "1.5"},
            {"0x10", "1", "0x10"},
            {"# c\r\n# c\r\n1 2 3;4\r\n", "3", "3;4"},
            {"99999999999999999999", "1", "99999999999999999999"},
            {"+3", "1", "+3"},
        };
        for (String[] c : cases) {
            Path f = text("bad.txt", c[0]);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> IndexList.read(f), c[0]);
            String m = e.getMessage();
            assertTrue(m.contains(f.toString()), m);
            assertTrue(m.contains("line " + c[1]), m);
            assertTrue(m.contains("'" + c[2] + "'"), m);
        }
    }

    @Test
    void rejectsTextThatIsNotUtf8AndMissingFiles() throws IOException {
        Path f = Files.write(dir.resolve("latin1.txt"), new byte[] {'1', ' ', (byte) 0xE9, '\n'});
        assertThrows(InvalidInputException.class, () -> IndexList.read(f));
        assertThrows(InvalidInputException.class, () -> IndexList.read(dir.resolve("missing.txt")));
    }

    @Test
    void readsNpyFilesByExtension() throws IOException {
        Path npy = NpyBytes.write(dir.resolve("idx.npy"), NpyBytes.v1("<i8", "(3,)", NpyBytes.littleEndian(8, 10, 0, 7)));
        assertArrayEquals(new long[] {10, 0, 7}, IndexList.read(npy));
        Path upper = NpyBytes.write(dir.resolve("IDX.NPY"), NpyBytes.v1("<u2", "(2,)", NpyBytes.littleEndian(2, 1, 2)));
        assertArrayEquals(new long[] {1, 2}, IndexList.read(upper));
        Path floats = NpyBytes.write(dir.resolve("f.npy"), NpyBytes.v1("<f4", "(1,)", new byte[4]));
        assertThrows(InvalidInputException.class, () -> IndexList.read(floats));
        // A text file whose name does not end in .npy is text, even if it is called "npy".
        assertArrayEquals(new long[] {4}, IndexList.read(text("list.npy.txt", "4")));
    }

    @Test
    void validateAcceptsDistinctInRangeIndicesAndLeavesThemAlone() {
        long[] idx = {9, 0, 4, 1};
        IndexList.validate(idx, 10);
        assertArrayEquals(new long[] {9, 0, 4, 1}, idx);
        assertDoesNotThrow(() -> IndexList.validate(new long[0], 0));
        assertDoesNotThrow(() -> IndexList.validate(new long[0], 5));
    }

    @Test
    void validateNamesPositionAndValueOutOfRange() {
        InvalidArgumentException high = assertThrows(InvalidArgumentException.class,
                () -> IndexList.validate(new long[] {1, 2, 10, 3}, 10));
        assertTrue(high.getMessage().contains("10") && high.getMessage().contains("position 2"), high.getMessage());
        assertTrue(high.getMessage().contains("[0, 10)"), high.getMessage());
        InvalidArgumentException low = assertThrows(InvalidArgumentException.class,
                () -> IndexList.validate(new long[] {-1}, 10));
        assertTrue(low.getMessage().contains("-1") && low.getMessage().contains("position 0"), low.getMessage());
        assertThrows(InvalidArgumentException.class, () -> IndexList.validate(new long[] {0}, 0));
        assertThrows(InvalidArgumentException.class, () -> IndexList.validate(new long[] {0}, -1));
        assertThrows(InvalidArgumentException.class, () -> IndexList.validate(null, 1));
    }

    @Test
    void validateNamesADuplicate() {
        long[] idx = {5, 3, 8, 3, 1};
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> IndexList.validate(idx, 10));
        String m = e.getMessage();
        assertTrue(m.contains("index 3") && m.contains("more than once"), m);
        assertTrue(m.contains("positions 1 and 3"), m);
        assertArrayEquals(new long[] {5, 3, 8, 3, 1}, idx); // not sorted in place
    }
}
