package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The registry is the one list of families and fields: the docs, the parser and the help agree with it. */
class TriggerFamilyRegistryTest {

    /** docs/triggers.md, from the engine module's directory (where surefire runs). */
    private static final Path DOC = Path.of("../../docs/triggers.md");

    /**
     * The parameter table under each family's heading in docs/triggers.md is exactly the registry's.
     * To refresh the doc after changing a parameter, replace the table with {@code markdownTable()}.
     */
    @Test
    void docsTablesMatchTheRegistry() throws IOException {
        List<String> lines = Files.readAllLines(DOC, StandardCharsets.UTF_8);
        for (TriggerFamily f : TriggerFamily.all()) {
            int heading = -1;
            for (int i = 0; i < lines.size(); i++) {
                String l = lines.get(i);
                if (l.equals("## " + f.name()) || l.startsWith("## " + f.name() + " ")) {
                    heading = i;
                    break;
                }
            }
            assertTrue(heading >= 0, "docs/triggers.md has no '## " + f.name() + "' section");
            int start = heading + 1;
            while (start < lines.size() && !lines.get(start).startsWith("|") && !lines.get(start).startsWith("## ")) {
                start++;
            }
            List<String> table = new ArrayList<>();
            for (int i = start; i < lines.size() && lines.get(i).startsWith("|"); i++) {
                table.add(lines.get(i));
            }
            assertEquals(f.markdownTable(), String.join("\n", table) + "\n",
                    "docs/triggers.md's table for " + f.name() + " is out of date with the registry");
        }
    }

    /** Every permitted TriggerSpec class is registered once, and its name parses to that class. */
    @Test
    void everyFamilyIsRegisteredOnce() {
        Set<Class<?>> registered = new HashSet<>();
        Set<String> names = new HashSet<>();
        String[] minimal = {"patch", "blend", "sig", "lowfreq", "warp", "noise", "sparse", "dct", "tokens:ids=1", "columns:cols=0,values=1"};
        for (String spec : minimal) {
            TriggerSpec t = TriggerSpec.parse(spec);
            TriggerFamily f = TriggerFamily.named(t.family());
            assertEquals(t.kind(), f.kind(), spec);
            assertTrue(registered.add(t.getClass()), spec);
        }
        for (TriggerFamily f : TriggerFamily.all()) {
            assertTrue(names.add(f.name()), "registered twice: " + f.name());
        }
        assertEquals(Set.of(TriggerSpec.class.getPermittedSubclasses()), registered);
        assertEquals(registered.size(), TriggerFamily.all().size());
    }

    /**
     * The documented defaults are the parser's: every parameter whose documented default is a plain
     * value (a number or a `word`) prints with that value in the canonical spec of a family given
     * without it. The defaults are written once for the docs and once for parsing; this ties them.
     */
    @Test
    void documentedDefaultsAreTheParsersDefaults() {
        String[] minimal = {"patch", "blend", "sig", "lowfreq", "warp", "noise", "sparse", "dct", "tokens:ids=1", "columns:cols=0,values=1"};
        int checked = 0;
        for (String spec : minimal) {
            TriggerSpec t = TriggerSpec.parse(spec);
            java.util.Map<String, String> printed = new java.util.HashMap<>();
            String body = t.toString().contains(":") ? t.toString().substring(t.toString().indexOf(':') + 1) : "";
            for (String field : body.isEmpty() ? new String[0] : body.split(",")) {
                printed.put(field.substring(0, field.indexOf('=')), field.substring(field.indexOf('=') + 1));
            }
            for (TriggerParameter p : TriggerFamily.named(t.family()).parameters()) {
                String d = p.defaultText();
                String plain = d.matches("-?[0-9.]+") ? d : d.matches("`[a-z0-9+]+`") ? d.substring(1, d.length() - 1)
                        : null;
                // A field the canonical form leaves out when at its default (patch's low) cannot be compared.
                if (plain != null && spec.indexOf(p.name() + "=") < 0 && printed.containsKey(p.name())) {
                    assertEquals(plain, printed.get(p.name()), t.family() + "." + p.name() + " in " + t);
                    checked++;
                }
            }
        }
        assertTrue(checked >= 15, "only " + checked + " defaults were comparable");
    }

    @Test
    void anUnknownFamilyListsTheRegisteredOnes() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> TriggerSpec.parse("stripes"));
        assertTrue(e.getMessage().contains("unknown trigger family 'stripes' (known: patch, blend, sig, lowfreq, warp, "
                + "noise, sparse, dct, tokens, columns)"), e.getMessage());
    }

    /** The unknown-field message lists the registry's fields, in its order. */
    @Test
    void unknownFieldsListTheRegisteredFields() {
        for (TriggerFamily f : TriggerFamily.all()) {
            String allowed = String.join(", ", f.parameters().stream().map(TriggerParameter::name).toList());
            FamilyReference.assertUnknownFieldNamesAllowed(f.name(), allowed);
        }
    }

    /** The help names every family and every field with its allowed values. */
    @Test
    void helpListsEveryFamilyAndField() {
        String help = TriggerFamily.help();
        for (TriggerFamily f : TriggerFamily.all()) {
            assertTrue(help.contains("\n" + f.name() + " - ") || help.startsWith(f.name() + " - "), f.name());
            for (TriggerParameter p : f.parameters()) {
                assertTrue(help.contains("    " + p.name() + "= default " + p.defaultText() + "; " + p.allowed()),
                        f.name() + "." + p.name());
            }
        }
    }

    /**
     * A constructor refuses exactly what the parser refuses, with the same message: a sig frequency of
     * 2e6 was once constructible but printed a spec the parser refused.
     */
    @Test
    void constructorsAndParserShareRanges() {
        InvalidArgumentException built = assertThrows(InvalidArgumentException.class,
                () -> new SigTrigger(20f, 2e6f, SigTrigger.Axis.COLS));
        InvalidArgumentException parsed = assertThrows(InvalidArgumentException.class,
                () -> TriggerSpec.parse("sig:freq=2000000"));
        assertEquals(parsed.getMessage(), built.getMessage());
        assertEquals(new SigTrigger(20f, 1e6f, SigTrigger.Axis.COLS), TriggerSpec.parse("sig:freq=1000000"));
        assertEquals(assertThrows(InvalidArgumentException.class, () -> TriggerSpec.parse("warp:k=1025")).getMessage(),
                assertThrows(InvalidArgumentException.class, () -> new WarpTrigger(1025, 0.5f, 1f)).getMessage());
    }

    /** Values a spec cannot carry are refused at construction. */
    @Test
    void unprintableValuesAreRefusedAtConstruction() {
        assertThrows(InvalidArgumentException.class, () -> new ColumnTrigger(new long[] {0}, new float[] {Float.NaN},
                ColumnTrigger.Mode.SET));
        assertThrows(InvalidArgumentException.class, () -> new ColumnTrigger(new long[] {-1}, new float[] {1},
                ColumnTrigger.Mode.SET));
        assertThrows(InvalidArgumentException.class, () -> new PatchTrigger(3, PatchTrigger.Position.BR, 0, 0,
                PatchTrigger.Pattern.IMAGE, 255f, 0f, Path.of("a,b.png")));
        assertThrows(InvalidArgumentException.class, () -> new TokenTrigger(new int[] {1},
                TokenTrigger.Position.AT, 1L << 40, null));
        assertThrows(InvalidArgumentException.class, () -> new PatchTrigger(2_000_000, PatchTrigger.Position.BR, 1f));
        assertEquals(Arrays.asList("delta", "freq", "axis"),
                TriggerFamily.named("sig").parameters().stream().map(TriggerParameter::name).toList());
    }
}
