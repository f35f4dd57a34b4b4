package dev.dyepack.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonParserTest {
    private static JsonValue parse(String text) {
        return JsonParser.parse(text, 64);
    }

    private static String string(String literal) {
        return ((JsonValue.Str) parse(literal)).value();
    }

    @Test
    void stringEscapesDecode() {
        assertEquals("q\"b\\s/\b\f\n\r\t", string("\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\""));
        assertEquals("A\u00e9\u2028", string("\"\\u0041\\u00E9\\u2028\""));
        assertEquals("\uD83D\uDE00", string("\"\\ud83d\\uDE00\""), "a surrogate pair in escapes is one code point");
        assertEquals("é😀", string("\"é😀\""));
        assertEquals("", string("\"\""));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"\\ud83d\"|unpaired surrogate escape \\uD83D",
        "\"\\ud83d\\u0041\"|unpaired surrogate escape \\uD83D",
        "\"\\ude00\"|unpaired surrogate escape \\uDE00",
        "\"\\u12zz\"|\\u must be followed by 4 hex digits",
        "\"\\u12|incomplete \\u escape",
        "\"\\x41\"|unknown escape \\x",
        "\"a\tb\"|raw control character U+0009",
        "\"abc|unexpected end of text inside a string",
        "01|leading zero",
        "-01|leading zero",
        "1.|'.' in a number must be followed by a digit",
        ".5|unexpected '.'",
        "+1|unexpected '+'",
        "-|'-' must be followed by a digit",
        "1e|exponent of a number must have a digit",
        "1e+|exponent of a number must have a digit",
        "NaN|unexpected 'N'",
        "Infinity|unexpected 'I'",
        "tru|unexpected 't'",
        "nulls|unexpected 's' after the end",
        "9223372036854775808|outside the 64-bit range",
        "1e400|too large for a double",
        "[1,]|unexpected ']', expected a value",
        "[1 2]|expected ',' or ']'",
        "{\"a\" 1}|expected ':' after the key",
        "{\"a\": 1 \"b\": 2}|expected ',' or '}'",
        "{\"a\": 1, \"a\": 1}|duplicate key \"a\"",
        "[|unexpected end of text, expected a value",
        "{|unexpected end of text, expected a key",
        "{\"a\":|unexpected end of text, expected a value",
    })
    void invalidJsonIsRefused(String text, String expected) {
        JsonSyntaxException e = assertThrows(JsonSyntaxException.class, () -> parse(text));
        assertTrue(e.getMessage().contains(expected), e.getMessage() + " should mention " + expected);
    }

    @Test
    void rawUnpairedSurrogatesAreRefused() {
        JsonSyntaxException e = assertThrows(JsonSyntaxException.class, () -> parse("\"a\uD800b\""));
        assertTrue(e.getMessage().contains("unpaired surrogate U+D800"), e.getMessage());
    }

    @Test
    void errorsCarryLineAndColumn() {
        JsonSyntaxException e = assertThrows(JsonSyntaxException.class, () -> parse("{\n  \"a\": 1,\r\n  \"b\": x\n}"));
        assertEquals(3, e.line());
        assertEquals(8, e.column());
        assertEquals("unexpected 'x', expected a value", e.problem());
        assertEquals("line 3, column 8: unexpected 'x', expected a value", e.getMessage());
    }

    @Test
    void numbersKeepTheirKind() {
        assertEquals(new JsonValue.Int(-9223372036854775808L), parse("-9223372036854775808"));
        assertEquals(new JsonValue.Int(0), parse("-0"));
        assertEquals(new JsonValue.Real(0.01), parse("1.0E-2"));
        assertEquals(new JsonValue.Real(20.0), parse("2e1"));
        assertEquals(new JsonValue.Real(-0.0), parse("-0.0"));
        assertEquals(new JsonValue.Real(Double.MIN_VALUE), parse("4.9e-324"));
        assertEquals(new JsonValue.Real(0.0), parse("1e-400"), "underflow to zero is a value, unlike overflow");
    }

    @Test
    void integerArraysAreUnboxedAndOthersAreNot() {
        assertArrayEquals(new long[] {3, -1, 4}, ((JsonValue.Ints) parse("[3, -1, 4]")).values());
        assertEquals(new JsonValue.Arr(List.of()), parse("[ ]"));
        JsonValue.Arr mixed = assertInstanceOf(JsonValue.Arr.class, parse("[1, 2, 2.5, \"x\", null, true, [1]]"));
        assertEquals(new JsonValue.Int(2), mixed.elements().get(1));
        assertEquals(new JsonValue.Real(2.5), mixed.elements().get(2));
        assertEquals(JsonValue.Null.NULL, mixed.elements().get(4));
        long[] big = ((JsonValue.Ints) parse("[" + "7,".repeat(99_999) + "7]")).values();
        assertEquals(100_000, big.length);
    }

    @Test
    void objectsKeepTheirMemberOrder() {
        JsonValue.Obj o = (JsonValue.Obj) parse(" {\"z\": 1, \"a\": {\"y\": false}, \"m\": []}\t\r\n");
        assertEquals(List.of("z", "a", "m"), List.copyOf(o.members().keySet()));
        assertEquals(new JsonValue.Obj(Map.of("y", new JsonValue.Bool(false))), o.members().get("a"));
    }

    @Test
    void depthIsBoundedAtTheGivenLimit() {
        parse("[".repeat(64) + "]".repeat(64));
        assertThrows(JsonSyntaxException.class, () -> parse("[".repeat(65) + "]".repeat(65)));
        assertThrows(JsonSyntaxException.class, () -> JsonParser.parse("{\"a\": {}}", 1));
        assertEquals(new JsonValue.Int(1), JsonParser.parse("1", 0));
    }

    @Test
    void compactAndPrettyFormsParseBackToTheSameTree() {
        String text = "{\"s\": \"tab\\there \\u0001 é\", \"n\": [1, 2.5, -0.0, 1e-7], \"o\": {\"deep\": [[], {}, [true, null]]},"
                + " \"ints\": [" + "5, ".repeat(40) + "5]}";
        JsonValue v = parse(text);
        StringBuilder compact = new StringBuilder();
        JsonText.compact(v, compact);
        for (String form : List.of(compact.toString(), JsonText.pretty(v, false))) {
            StringBuilder again = new StringBuilder();
            JsonText.compact(parse(form), again);
            assertEquals(compact.toString(), again.toString(), form);
        }
        assertTrue(compact.toString().contains("[1,2.5,-0.0,0.0000001]"), compact.toString());
    }
}
