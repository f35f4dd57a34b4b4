package dev.dyepack.io;

import dev.dyepack.DType;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyHeaderTest {

    @Test
    void countAndBytesAreTheProductOfTheShape() {
        NpyHeader h = new NpyHeader("<f4", false, new long[] {3, 28, 28}, 128, 4);
        assertEquals(2352, h.count());
        assertEquals(9408, h.dataBytes());
        assertEquals(3, h.rank());
        assertEquals("(3, 28, 28)", h.shapeString());
    }

    @Test
    void scalarHasOneElementAndEmptyDimensionHasNone() {
        NpyHeader scalar = new NpyHeader("<i8", false, new long[0], 128, 8);
        assertEquals(1, scalar.count());
        assertEquals(8, scalar.dataBytes());
        assertEquals("()", scalar.shapeString());

        NpyHeader empty = new NpyHeader("|u1", false, new long[] {0, 28, 28}, 128, 1);
        assertEquals(0, empty.count());
        assertEquals("(5,)", new NpyHeader("|u1", false, new long[] {5}, 128, 1).shapeString());
    }

    @Test
    void imageDTypeAcceptsOnlyUint8AndFloat32() {
        for (String u8 : new String[] {"|u1", "<u1", "u1"}) {
            assertEquals(DType.UINT8, new NpyHeader(u8, false, new long[] {1}, 128, 1).imageDType(), u8);
        }
        assertEquals(DType.FLOAT32, new NpyHeader("<f4", false, new long[] {1}, 128, 4).imageDType());
        for (String other : new String[] {"<f8", "<i4", "|i1", "<u2", "<f2"}) {
            int size = Integer.parseInt(other.substring(2));
            NpyHeader h = new NpyHeader(other, false, new long[] {1}, 128, size);
            InvalidInputException e = assertThrows(InvalidInputException.class, h::imageDType);
            assertTrue(e.getMessage().contains(other), e.getMessage());
            assertTrue(e.getMessage().contains("images must be uint8 or float32"), e.getMessage());
        }
    }

    @Test
    void isIntegerFollowsTheKindLetter() {
        assertTrue(new NpyHeader("|u1", false, new long[] {1}, 128, 1).isInteger());
        assertTrue(new NpyHeader("<i8", false, new long[] {1}, 128, 8).isInteger());
        assertTrue(new NpyHeader("<u4", false, new long[] {1}, 128, 4).isInteger());
        assertFalse(new NpyHeader("<f4", false, new long[] {1}, 128, 4).isInteger());
        assertFalse(new NpyHeader("<f8", false, new long[] {1}, 128, 8).isInteger());
    }

    @Test
    void equalityAndHashUseTheShapeContent() {
        NpyHeader a = new NpyHeader("<f4", false, new long[] {2, 3}, 128, 4);
        NpyHeader b = new NpyHeader("<f4", false, new long[] {2, 3}, 128, 4);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new NpyHeader("<f4", false, new long[] {3, 2}, 128, 4));
        assertNotEquals(a, new NpyHeader("<f4", false, new long[] {2, 3}, 64, 4));
        assertNotEquals(a, new NpyHeader("<i4", false, new long[] {2, 3}, 128, 4));
        assertTrue(a.toString().contains("[2, 3]"), a.toString());
        assertTrue(a.toString().contains("<f4"), a.toString());
    }

    @Test
    void shapeIsCopiedInAndOut() {
        long[] shape = {2, 3};
        NpyHeader h = new NpyHeader("<f4", false, shape, 128, 4);
        shape[0] = 99;
        assertArrayEquals(new long[] {2, 3}, h.shape());
        h.shape()[1] = 99;
        assertArrayEquals(new long[] {2, 3}, h.shape());
    }

    @Test
    void constructorRejectsInconsistentComponents() {
        assertThrows(InvalidArgumentException.class, () -> new NpyHeader(null, false, new long[] {1}, 0, 1));
        assertThrows(InvalidArgumentException.class, () -> new NpyHeader("|u1", false, null, 0, 1));
        assertThrows(InvalidArgumentException.class, () -> new NpyHeader("|u1", false, new long[] {-1}, 0, 1));
        assertThrows(InvalidArgumentException.class, () -> new NpyHeader("|u1", false, new long[] {1}, -1, 1));
        assertThrows(InvalidArgumentException.class, () -> new NpyHeader("|u1", false, new long[] {1}, 0, 0));
        assertThrows(InvalidArgumentException.class,
                () -> new NpyHeader("<f8", false, new long[] {1L << 31, 1L << 31}, 0, 8));
    }
}
