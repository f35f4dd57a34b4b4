package dev.dyepack.manifest;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed JSON value, the tree that {@link JsonParser} builds and {@link JsonText} writes. Package
 * private: the manifest's public API exposes typed fields, never this tree.
 *
 * <p>Integers and floats are told apart by their token ({@code 12} is an {@link Int}, {@code 12.0} and
 * {@code 1e1} are {@link Real}s), so a document keeps its number types through a read and a write. A
 * non-empty array whose elements are all integers is an {@link Ints}, a primitive {@code long[]}: index
 * lists can hold millions of entries, and boxing each one would cost some 30 bytes.
 *
 * <p>Every instance is immutable.
 */
sealed interface JsonValue {

    /** An object; members keep the order in which they were read or added, and keys are distinct. */
    record Obj(Map<String, JsonValue> members) implements JsonValue {
        public Obj {
            members = Collections.unmodifiableMap(new LinkedHashMap<>(members));
        }
    }

    /** An array of any values. */
    record Arr(List<JsonValue> elements) implements JsonValue {
        public Arr {
            elements = List.copyOf(elements);
        }
    }

    /** A non-empty array of integers only, kept unboxed; {@link #values()} is shared, never modify it. */
    record Ints(long[] values) implements JsonValue {
    }

    /** A string; never holds an unpaired surrogate. */
    record Str(String value) implements JsonValue {
    }

    /** A number written without fraction or exponent that fits a {@code long}. */
    record Int(long value) implements JsonValue {
    }

    /** A number written with a fraction or an exponent; always finite. */
    record Real(double value) implements JsonValue {
    }

    /** {@code true} or {@code false}. */
    record Bool(boolean value) implements JsonValue {
    }

    /** {@code null}. */
    enum Null implements JsonValue {
        NULL
    }

    /** @return a short name of this value's type for error messages ("an integer", "a string", ...) */
    default String typeName() {
        if (this instanceof Obj) {
            return "an object";
        }
        if (this instanceof Arr || this instanceof Ints) {
            return "an array";
        }
        if (this instanceof Str) {
            return "a string";
        }
        if (this instanceof Int) {
            return "an integer";
        }
        if (this instanceof Real) {
            return "a floating-point number";
        }
        if (this instanceof Bool) {
            return "a boolean";
        }
        return "null";
    }
}
