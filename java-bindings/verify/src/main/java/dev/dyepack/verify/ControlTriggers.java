package dev.dyepack.verify;

import dev.dyepack.trigger.TriggerSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The control triggers of a keyless trigger: the same family with other parameters.
 *
 * <p>A keyed trigger's controls are the same spec under control keys. A keyless trigger (a solid patch
 * at a fixed place, a SIG or low-frequency signal) is the same under every key, so its controls vary what
 * the owner fixed instead: a patch at the other corners, a signal on the other axis or at another
 * frequency, other low-frequency pairs. A model that answers the target to the owner's kind of trigger
 * wherever it is (a model watermarked by someone else with a similar trigger, or one that reacts to any
 * bright square) answers the controls too, which raises the null with it; a model that learned the
 * owner's exact trigger does not.
 *
 * <p>Families without a natural variation (a blend of a picture, token and column triggers) have no
 * controls, and their label evidence rests on the clean rate alone.
 */
public final class ControlTriggers {
    private static final List<String> PATCH_PLACES = List.of("tl", "tr", "bl", "br", "center");

    private ControlTriggers() {
    }

    /**
     * The control variants of a keyless trigger, in a fixed order.
     *
     * @param trigger the owner's trigger (keyless)
     * @param count   how many to give at most
     * @return up to {@code count} triggers of the same family that differ from the owner's in position or
     *         frequency; empty for a keyed trigger or a family without variants
     */
    public static List<TriggerSpec> variants(TriggerSpec trigger, int count) {
        List<TriggerSpec> out = new ArrayList<>();
        if (trigger.keyed() || count <= 0) {
            return out;
        }
        Map<String, String> p = fields(trigger);
        List<Map<String, String>> candidates = new ArrayList<>();
        switch (trigger.family()) {
            case "patch" -> {
                for (String place : PATCH_PLACES) {
                    if (place.equals(p.get("pos"))) {
                        continue;
                    }
                    Map<String, String> v = new LinkedHashMap<>(p);
                    v.put("pos", place);
                    v.remove("y");
                    v.remove("x");
                    candidates.add(v);
                }
            }
            case "sig" -> {
                String axis = p.getOrDefault("axis", "cols");
                String other = axis.equals("cols") ? "rows" : "cols";
                double f = Double.parseDouble(p.get("freq"));
                String[][] plan = {{other, number(f)}, {axis, number(2 * f)}, {other, number(2 * f)},
                    {axis, number(f / 2)}, {other, number(f / 2)}};
                for (String[] a : plan) {
                    Map<String, String> v = new LinkedHashMap<>(p);
                    v.put("axis", a[0]);
                    v.put("freq", a[1]);
                    candidates.add(v);
                }
            }
            case "lowfreq" -> {
                for (int shift = 1; shift <= count; shift++) {
                    StringJoiner j = new StringJoiner("+");
                    for (String uv : p.get("freqs").split("\\+")) {
                        String[] parts = uv.split("x");
                        j.add((Integer.parseInt(parts[0]) + shift) + "x" + (Integer.parseInt(parts[1]) + shift));
                    }
                    Map<String, String> v = new LinkedHashMap<>(p);
                    v.put("freqs", j.toString());
                    candidates.add(v);
                }
            }
            default -> {
                // no natural variation
            }
        }
        for (Map<String, String> v : candidates) {
            if (out.size() == count) {
                break;
            }
            TriggerSpec spec = TriggerSpec.parse(spec(trigger.family(), v));
            if (!spec.equals(trigger)) {
                out.add(spec);
            }
        }
        return out;
    }

    /** The canonical spec's fields, in order (values never hold ',': the spec forbids it). */
    private static Map<String, String> fields(TriggerSpec trigger) {
        String text = trigger.toString();
        Map<String, String> p = new LinkedHashMap<>();
        int colon = text.indexOf(':');
        if (colon < 0) {
            return p;
        }
        for (String kv : text.substring(colon + 1).split(",")) {
            int eq = kv.indexOf('=');
            p.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return p;
    }

    private static String spec(String family, Map<String, String> fields) {
        StringJoiner j = new StringJoiner(",", family + ":", "");
        fields.forEach((k, v) -> j.add(k + "=" + v));
        return j.toString();
    }

    private static String number(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", (float) v);
    }
}
