package dev.dyepack.trigger;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.internal.RawPointer;
import dev.dyepack.key.KeyedRandom;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.IntPointer;

/**
 * A token trigger for int32 sequences (N x L): the trigger's ids overwrite k consecutive tokens at
 * the start, the end, a fixed position, or a keyed-random position per sequence. With {@code pad}, a
 * sequence's length is the index of its first pad token (L if none), and the trigger stays inside it;
 * the keyed position is uniform over the places that fit.
 *
 * @param ids      the trigger's token ids (at least one)
 * @param position start, end, at, or random
 * @param at       the fixed position for {@code pos=N}, else 0
 * @param pad      the pad id marking the end of a sequence, or null when sequences fill their rows
 */
public record TokenTrigger(int[] ids, Position position, long at, Integer pad) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "tokens";

    /** Where the trigger goes in each sequence. */
    public enum Position {
        /** at index 0 */
        START,
        /** ending at the sequence's last token */
        END,
        /** at a fixed index */
        AT,
        /** at a keyed-random index per sequence */
        RANDOM
    }

    static final TriggerParameter IDS = TriggerParameter.integers("ids", "required", Integer.MIN_VALUE,
            Integer.MAX_VALUE, "the trigger token ids, `ID+ID+...`");
    static final TriggerParameter POS = TriggerParameter.choiceOrIndex("pos", "`end`",
            java.util.List.of("start", "end", "random"), 0, Integer.MAX_VALUE, "`start`, `end` (ending at the last "
            + "token of the sequence), an index, or `random` (keyed, per sequence, uniform over the places that fit)");
    static final TriggerParameter PAD = TriggerParameter.integer("pad", "none", Integer.MIN_VALUE, Integer.MAX_VALUE,
            "the pad id: a sequence's length is the index of its first pad token, and the trigger stays inside it");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.SEQUENCES,
            "token ids written into int32 sequences (N, L)", "with pos=random", java.util.List.of(IDS, POS, PAD),
            TokenTrigger::fromFields);

    /** @throws InvalidArgumentException for empty ids or a negative position */
    public TokenTrigger {
        Objects.requireNonNull(position, "position");
        if (ids == null || ids.length == 0) {
            throw new InvalidArgumentException("tokens: ids needs at least one token id");
        }
        ids = ids.clone();
        if (position != Position.AT && at != 0) {
            throw new InvalidArgumentException("tokens: a fixed position is only for pos=N");
        }
        POS.checkInteger(FAMILY, at);
    }

    static TokenTrigger fromFields(Map<String, String> raw) {
        long[] ids = IDS.readIntegers(FAMILY, raw);
        if (ids == null) {
            throw new InvalidArgumentException("tokens: ids=ID[+ID...] is required");
        }
        String pos = POS.readChoiceOrIndex(FAMILY, raw, "end");
        Position position = switch (pos) {
            case "start" -> Position.START;
            case "end" -> Position.END;
            case "random" -> Position.RANDOM;
            default -> Position.AT;
        };
        long at = position == Position.AT ? TriggerParameter.asciiLong(pos) : 0;
        Integer pad = raw.containsKey("pad") ? PAD.readInteger(FAMILY, raw, 0) : null;
        return new TokenTrigger(Arrays.stream(ids).mapToInt(v -> (int) v).toArray(), position, at, pad);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenTrigger t && Arrays.equals(t.ids, ids) && t.position == position && t.at == at
                && Objects.equals(t.pad, pad);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(ids), position, at, pad);
    }

    @Override
    public String family() {
        return FAMILY;
    }

    @Override
    public DataKind kind() {
        return DataKind.SEQUENCES;
    }

    @Override
    public boolean keyed() {
        return position == Position.RANDOM;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("ids", ids.clone());
        p.put("pos", position == Position.AT ? Long.toString(at) : position.name().toLowerCase(Locale.ROOT));
        p.put("pad", pad);
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        if (batch.dtype() != DType.INT32 || batch.c() != 1 || batch.h() != 1) {
            throw new InvalidArgumentException("tokens: needs int32 sequences of shape (N, L), got " + batch);
        }
        if (ids.length > batch.w()) {
            throw new InvalidArgumentException("tokens: " + ids.length + " trigger tokens do not fit sequences of length "
                    + batch.w());
        }
        if (position == Position.AT && at + ids.length > batch.w()) {
            throw new InvalidArgumentException("tokens: position " + at + " leaves no room for " + ids.length
                    + " tokens in sequences of length " + batch.w());
        }
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(template);
        KeyedRandom rng = position == Position.RANDOM
                ? new KeyedRandom(context.requireKey(FAMILY).philoxKey(Patterns.TOKEN_POSITION)) : null;
        Operands operands = new Operands(engine);
        operands.ints("ids", ids.clone());
        return new Prepared(this, engine, template, operands, null,
                (e, ops, batch, indices, first) -> stamp(e, ops.ints("ids"), rng, batch, indices, first));
    }

    private void stamp(Engine engine, int[] ids, KeyedRandom rng, Tensor batch, long[] indices, long firstSample) {
        int k = ids.length;
        long length = batch.w();
        long selected = indices == null ? batch.n() : indices.length;
        long[] positions = new long[Math.toIntExact(selected)];
        if (pad != null && batch.isDevice()) {
            throw new InvalidArgumentException("tokens: pad needs the sequences in host memory to find their lengths");
        }
        IntPointer data = pad == null || batch.n() == 0 ? null : new IntPointer(new RawPointer(batch.address()));
        for (int i = 0; i < selected; i++) {
            long s = indices == null ? i : indices[i];
            long len = length;
            if (data != null) {
                long base = s * length;
                len = 0;
                while (len < length && data.get(base + len) != pad) {
                    len++;
                }
            }
            if (len < k) {
                throw new InvalidArgumentException("tokens: sequence " + (firstSample + s) + " has length " + len
                        + ", shorter than the " + k + "-token trigger");
            }
            positions[i] = switch (position) {
                case START -> 0;
                case END -> len - k;
                case AT -> {
                    if (at + k > len) {
                        throw new InvalidArgumentException("tokens: position " + at + " does not fit sequence "
                                + (firstSample + s) + " of length " + len);
                    }
                    yield at;
                }
                case RANDOM -> rng.below(firstSample + s, 0, len - k + 1);
            };
        }
        engine.writeTokens(batch, ids, positions, indices);
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
