package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dyepack.InvalidArgumentException;
import org.junit.jupiter.api.Test;

/** The names a moved image gets in its new class folder (expected names written out by hand). */
class FolderNamesTest {
    @Test
    void aMovedImageWhoseNameIsTakenGetsTheNumbersAfterTheTargetsLast() {
        // Two classes with the same names; images 7 and 9 (class 1's img00002 and img00004) move into class 0.
        String[] names = {"img00000.png", "img00001.png", "img00002.png", "img00003.png", "img00004.png",
            "img00000.png", "img00001.png", "img00002.png", "img00003.png", "img00004.png"};
        int[] from = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
        long[] to = {0, 0, 0, 0, 0, 1, 1, 0, 1, 0};
        String[] out = FolderNames.assign(names, from, to, 2);
        assertArrayEquals(new String[] {"img00000.png", "img00001.png", "img00002.png", "img00003.png",
            "img00004.png", "img00000.png", "img00001.png", "img00005.png", "img00003.png", "img00006.png"}, out);
    }

    @Test
    void aMovedImageWhoseNameIsFreeKeepsItAndTheFirstOfTwoMovedNamesakesKeepsIt() {
        String[] names = {"a1.jpg", "b7.jpg", "b7.jpg", "b7.jpg"};
        int[] from = {0, 1, 2, 2};
        long[] to = {0, 0, 0, 2};
        // b7 is free in class 0: the first mover keeps it, the second takes the number after the highest b#.
        assertArrayEquals(new String[] {"a1.jpg", "b7.jpg", "b8.jpg", "b7.jpg"}, FolderNames.assign(names, from, to, 3));
    }

    @Test
    void namesWithoutDigitsWiderNumbersAndDigitsInsideTheName() {
        String[] names = {"cat.jpg", "img99.png", "3f9a2c.jpg", "cat.jpg", "img99.png", "3f9a2c.jpg", "x.tar.png"};
        int[] from = {0, 0, 0, 1, 1, 1, 1};
        long[] to = {0, 0, 0, 0, 0, 0, 0};
        String[] out = FolderNames.assign(names, from, to, 2);
        // The last run of digits counts; a name without digits gets "_1"; a number may grow wider.
        assertArrayEquals(new String[] {"cat.jpg", "img99.png", "3f9a2c.jpg", "cat_1.jpg", "img100.png", "3f9a3c.jpg",
            "x.tar.png"}, out);
    }

    @Test
    void theHighestNumberOfThePatternCountsWhateverItsWidthAndOtherExtensionsDoNot() {
        String[] names = {"img007.png", "img0100.png", "img007.jpg", "img007.png"};
        int[] from = {0, 0, 0, 1};
        long[] to = {0, 0, 0, 0};
        assertArrayEquals(new String[] {"img007.png", "img0100.png", "img007.jpg", "img101.png"},
                FolderNames.assign(names, from, to, 2));
    }

    @Test
    void twoImagesOfOneFolderWithOneNameAreRefused() {
        assertThrows(InvalidArgumentException.class,
                () -> FolderNames.assign(new String[] {"a.png", "a.png"}, new int[] {0, 0}, new long[] {0, 0}, 1));
    }
}
