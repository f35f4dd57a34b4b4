package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Format 2's canonical form: RFC 8785 numbers and member order, against published and independent references. */
class CanonicalJsonTest {
    @TempDir
    Path dir;

    /** Values from RFC 8785 (appendix B and section 3.2.2.3) and ECMAScript's Number::toString. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0x0000000000000000|0", "0x8000000000000000|0", "0x0000000000000001|5e-324",
        "0x8000000000000001|-5e-324", "0x7fefffffffffffff|1.7976931348623157e+308",
        "0xffefffffffffffff|-1.7976931348623157e+308", "0x4340000000000000|9007199254740992",
        "0xc340000000000000|-9007199254740992", "0x4430000000000000|295147905179352830000",
        "0x44b52d02c7e14af5|9.999999999999997e+22", "0x44b52d02c7e14af6|1e+23",
        "0x44b52d02c7e14af7|1.0000000000000001e+23", "0x444b1ae4d6e2ef4e|999999999999999700000",
        "0x444b1ae4d6e2ef4f|999999999999999900000", "0x444b1ae4d6e2ef50|1e+21",
        "0x3eb0c6f7a0b5ed8c|9.999999999999997e-7", "0x3eb0c6f7a0b5ed8d|0.000001",
        "0x41b3de4355555553|333333333.3333332", "0x41b3de4355555554|333333333.33333325",
        "0x41b3de4355555555|333333333.3333333", "0x41b3de4355555556|333333333.3333334",
        "0x41b3de4355555557|333333333.33333343", "0xbecbf647612f3696|-0.0000033333333333333333",
        "0x43143ff3c1cb0959|1424953923781206.2",
    })
    void numbersAreWrittenAsRfc8785AppendixBSays(String bits, String expected) {
        double d = Double.longBitsToDouble(Long.parseUnsignedLong(bits.substring(2), 16));
        assertEquals(expected, JsonText.ecmaNumber(d));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "1e21|1e+21", "1e-7|1e-7", "0.000001|0.000001", "1e20|100000000000000000000", "0.1|0.1",
        "-1.5|-1.5", "100|100", "2.5e-8|2.5e-8", "123456789012345680000|123456789012345680000",
    })
    void theLayoutSwitchesToExponentsOutsideOneMillionthToTenToTheTwentyFirst(double d, String expected) {
        assertEquals(expected, JsonText.ecmaNumber(d));
    }

    /** Powers of two, where the shortest digits lie on the wider side of the value. */
    @Test
    void powersOfTwoGetTheirShortestDigits() {
        assertEquals("2e-323", JsonText.ecmaNumber(Double.longBitsToDouble(4)));
        assertEquals("9007199254740992", JsonText.ecmaNumber(Math.pow(2, 53)));
        assertEquals("5.960464477539063e-8", JsonText.ecmaNumber(Math.pow(2, -24)));
    }

    @Test
    void floatParametersAreRecordedByTheirShortestFloatDecimal() {
        assertEquals("0.1", JsonText.ecmaNumber(JsonText.shortestFloat(0.1f)));
        assertEquals("0.3", JsonText.ecmaNumber(JsonText.shortestFloat(0.3f)));
        assertEquals("1e-10", JsonText.ecmaNumber(JsonText.shortestFloat(1e-10f)));
        assertEquals("3.4028235e+38", JsonText.ecmaNumber(JsonText.shortestFloat(Float.MAX_VALUE)));
        assertEquals("1e-45", JsonText.ecmaNumber(JsonText.shortestFloat(Float.MIN_VALUE)));
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 20000; i++) {
            float f = Float.intBitsToFloat(random.nextInt());
            if (!Float.isFinite(f)) {
                continue;
            }
            String text = JsonText.ecmaNumber(JsonText.shortestFloat(f));
            assertEquals(f, (float) Double.parseDouble(text), text);
            assertEquals(f, Float.parseFloat(text), text);
        }
    }

    @Test
    void membersAreSortedByUtf16CodeUnitsAndIntegersAreNumbers() {
        String text = "{\"\\u20ac\":1,\"\\ud83d\\ude00\":2,\"\\ufb33\":3,\"a\":[1.0,2e0,-0.0,\"x\\u0001\\u007f\"],"
                + "\"\\r\":true,\"1\":null,\"\\u0080\":{\"b\":1,\"a\":2}}";
        StringBuilder out = new StringBuilder();
        JsonText.jcs(JsonParser.parse(text, 8), out);
        assertEquals("{\"\\r\":true,\"1\":null,\"a\":[1,2,0,\"x\\u0001\u007f\"],\"\u0080\":{\"a\":2,\"b\":1},"
                + "\"\u20ac\":1,\"\ud83d\ude00\":2,\"\ufb33\":3}", out.toString());
    }

    /** Python's repr is David Gay's shortest round trip; scripts/verify_manifest.py builds RFC 8785 numbers on it. */
    @Test
    void numbersAgreeWithThePythonVerifierOnRandomDoubles() throws IOException, InterruptedException {
        Path script = Path.of("../../scripts/verify_manifest.py").toAbsolutePath().normalize();
        assertTrue(Files.exists(script), script.toString());
        assumeTrue(python3Present(), "python3 is not installed");
        SplittableRandom random = new SplittableRandom(20250301);
        List<Double> values = new ArrayList<>();
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 6000; i++) {
            double d = switch (i % 3) {
                case 0 -> Double.longBitsToDouble(random.nextLong());
                case 1 -> (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-30, 30));
                default -> (double) Float.intBitsToFloat(random.nextInt());
            };
            if (Double.isFinite(d)) {
                values.add(d);
                input.append(Long.toHexString(Double.doubleToRawLongBits(d))).append('\n');
            }
        }
        Path in = Files.writeString(dir.resolve("bits.txt"), input);
        String program = "import struct, sys; sys.path.insert(0, sys.argv[1]); import verify_manifest as v\n"
                + "for line in open(sys.argv[2]):\n"
                + "    print(v.jcs_number(struct.unpack('>d', bytes.fromhex(line.strip().zfill(16)))[0]))\n";
        Process p = new ProcessBuilder("python3", "-c", program, script.getParent().toString(), in.toString())
                .redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), UTF_8).lines().toList();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join("\n", lines));
        assertEquals(values.size(), lines.size());
        for (int i = 0; i < values.size(); i++) {
            assertEquals(lines.get(i), JsonText.ecmaNumber(values.get(i)), "bits " + Double.doubleToRawLongBits(values.get(i)));
        }
        assertFalse(values.isEmpty());
    }

    static boolean python3Present() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
