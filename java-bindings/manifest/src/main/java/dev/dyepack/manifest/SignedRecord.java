package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.key.OwnerKey;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Small signed JSON records beside the manifest (a probe set's {@code probe.json}, ...): a JSON object
 * whose member {@code "signature"} is {@code HMAC-SHA256(owner.derive(purpose, 32), JCS(rest))} in
 * lowercase hex, where JCS is RFC 8785's canonical form of every other member, exactly as manifest
 * format 2 signs. Each kind of record has a purpose of its own, so no record can pass for another.
 *
 * <p>Values are plain Java: {@code Map<String, ?>}, {@code String}, {@code Long} or {@code Integer}
 * (within &plusmn;(2<sup>53</sup>-1), exact as JSON numbers), {@code long[]}, {@code Boolean}, and
 * {@code List} of these. Stateless and thread-safe.
 */
public final class SignedRecord {
    /** The member that holds the signature. */
    public static final String SIGNATURE = "signature";
    /** The largest record read. */
    public static final int MAX_CHARS = 64 << 20;
    private static final String HMAC = "HmacSHA256";

    private SignedRecord() {
    }

    /**
     * Writes a signed record.
     *
     * @param body    the members (none named {@value #SIGNATURE})
     * @param key     the owner's key
     * @param purpose the record kind's subkey purpose
     * @return the record's text (RFC 8785 form plus the signature, and a newline)
     * @throws InvalidArgumentException for a value outside the supported kinds or a reserved member
     */
    public static String write(Map<String, ?> body, OwnerKey key, String purpose) {
        if (body.containsKey(SIGNATURE)) {
            throw new InvalidArgumentException("a record's member '" + SIGNATURE + "' is reserved for its signature");
        }
        JsonValue.Obj tree = (JsonValue.Obj) toJson(body, "record");
        Map<String, JsonValue> signed = new LinkedHashMap<>(tree.members());
        signed.put(SIGNATURE, new JsonValue.Str(HexFormat.of().formatHex(hmac(key, purpose, canonical(tree)))));
        StringBuilder out = new StringBuilder();
        JsonText.jcs(new JsonValue.Obj(signed), out);
        return out.append('\n').toString();
    }

    /**
     * Reads a record and checks its signature before returning anything from it.
     *
     * @param text    the record's text
     * @param key     the owner's key
     * @param purpose the record kind's subkey purpose
     * @param what    the record's name for messages (its file)
     * @return the members other than the signature, as plain Java values (integers as {@code Long},
     *         integer arrays as {@code long[]}, other arrays as {@code List})
     * @throws InvalidInputException if the text is not one JSON object within the limits
     * @throws UntrustedRecordException if it is unsigned or the signature is not the key's
     */
    public static Map<String, Object> read(String text, OwnerKey key, String purpose, String what) {
        if (text.length() > MAX_CHARS) {
            throw new InvalidInputException(what + ": larger than any record (" + MAX_CHARS + " characters)");
        }
        JsonValue root;
        try {
            root = JsonParser.parse(text, ManifestReader.MAX_DEPTH);
        } catch (JsonSyntaxException e) {
            throw new InvalidInputException(what + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof JsonValue.Obj obj)) {
            throw new InvalidInputException(what + ": expected a JSON object");
        }
        Map<String, JsonValue> rest = new LinkedHashMap<>(obj.members());
        JsonValue sig = rest.remove(SIGNATURE);
        if (!(sig instanceof JsonValue.Str s) || !s.value().matches("[0-9a-f]{64}")) {
            throw new UntrustedRecordException(what + ": not signed");
        }
        byte[] expected = hmac(key, purpose, canonical(new JsonValue.Obj(rest)));
        if (!MessageDigest.isEqual(expected, HexFormat.of().parseHex(s.value()))) {
            throw new UntrustedRecordException(what + ": the signature does not verify under the key given ("
                    + key.fingerprint() + "): the record was changed or signed with another key");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) toJava(new JsonValue.Obj(rest));
        return out;
    }

    /**
     * HMAC-SHA256 under a key-derived subkey (zero-filled after use); the one MAC of manifests and records.
     *
     * @param key     the owner's key
     * @param purpose the subkey's purpose
     * @param message the bytes signed
     * @return the 32-byte MAC
     */
    static byte[] hmac(OwnerKey key, String purpose, byte[] message) {
        byte[] subkey = key.derive(purpose, ManifestSigner.SUBKEY_LENGTH);
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(subkey, HMAC));
            return mac.doFinal(message);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            // Every Java SE implementation must provide HmacSHA256 and accept a 32-byte raw key.
            throw new IllegalStateException("HmacSHA256 is unavailable in this JDK", e);
        } finally {
            Arrays.fill(subkey, (byte) 0);
        }
    }

    private static byte[] canonical(JsonValue.Obj tree) {
        StringBuilder out = new StringBuilder();
        JsonText.jcs(tree, out);
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static JsonValue toJson(Object v, String where) {
        if (v instanceof Map<?, ?> m) {
            Map<String, JsonValue> members = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    throw new InvalidArgumentException(where + ": member names must be strings");
                }
                members.put(k, toJson(e.getValue(), where + "." + k));
            }
            return new JsonValue.Obj(members);
        }
        if (v instanceof String s) {
            return new JsonValue.Str(s);
        }
        if (v instanceof Long || v instanceof Integer) {
            long l = ((Number) v).longValue();
            if (Math.abs(l) > Manifest.MAX_EXACT_INTEGER) {
                throw new InvalidArgumentException(where + ": " + l + " is not exact as a JSON number");
            }
            return new JsonValue.Int(l);
        }
        if (v instanceof long[] a) {
            List<JsonValue> items = new ArrayList<>(a.length);
            for (long l : a) {
                items.add(toJson(l, where + "[]"));
            }
            return a.length == 0 ? new JsonValue.Arr(items) : new JsonValue.Ints(a.clone());
        }
        if (v instanceof Boolean b) {
            return new JsonValue.Bool(b);
        }
        if (v instanceof List<?> list) {
            List<JsonValue> items = new ArrayList<>(list.size());
            for (Object o : list) {
                items.add(toJson(o, where + "[]"));
            }
            return new JsonValue.Arr(items);
        }
        throw new InvalidArgumentException(where + ": a record holds maps, strings, integers, long[], booleans and "
                + "lists, got " + (v == null ? "null" : v.getClass().getSimpleName()));
    }

    private static Object toJava(JsonValue v) {
        if (v instanceof JsonValue.Obj o) {
            Map<String, Object> out = new LinkedHashMap<>();
            o.members().forEach((k, x) -> out.put(k, toJava(x)));
            return out;
        }
        if (v instanceof JsonValue.Arr a) {
            List<Object> out = new ArrayList<>();
            for (JsonValue x : a.elements()) {
                out.add(toJava(x));
            }
            return out;
        }
        if (v instanceof JsonValue.Ints a) {
            return a.values().clone();
        }
        if (v instanceof JsonValue.Str s) {
            return s.value();
        }
        if (v instanceof JsonValue.Int i) {
            return i.value();
        }
        if (v instanceof JsonValue.Real r) {
            return r.value();
        }
        if (v instanceof JsonValue.Bool b) {
            return b.value();
        }
        return null;
    }
}
