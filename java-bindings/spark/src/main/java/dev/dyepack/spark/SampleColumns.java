package dev.dyepack.spark;

import dev.dyepack.InvalidInputException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Where a DataFrame of samples keeps what DyePack needs, checked against its schema: an integer id
 * column (a row's place in the dataset is its rank by id), an integer label column, and the image,
 * either as Spark's image data source writes it (a struct column with {@code height}, {@code width},
 * {@code nChannels} and {@code data}: {@code spark.read.format("image")}) or as a binary column of
 * uint8 pixels, row-major height x width x channels, beside integer {@code height}, {@code width} and
 * {@code channels} columns (what {@code dyepack convert} writes). Pixels are stamped in the order they
 * are stored (Spark's image source stores BGR; {@code convert} keeps the order of the {@code .npy}).
 *
 * <p>Immutable and serializable: executors read rows through it.
 */
public final class SampleColumns implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The id column {@code dyepack convert} writes. */
    public static final String ID = "id";
    /** The label column {@code dyepack convert} writes. */
    public static final String LABEL = "label";
    /** The pixels column {@code dyepack convert} writes. */
    public static final String DATA = "data";
    /** The image struct column of Spark's image data source. */
    public static final String IMAGE = "image";
    /** Column metadata: the NumPy dtype of the array a column came from ({@code "|u1"}, {@code "<i8"}). */
    public static final String DESCR_METADATA = "dyepack.npy.descr";
    /** Column metadata on the pixels: the per-sample shape of the array they came from, e.g. {@code "28,28"}. */
    public static final String SHAPE_METADATA = "dyepack.npy.shape";

    private final String id;
    private final String label;
    /** The image struct column, or null for flat columns. */
    private final String image;
    private final String data;
    private final String height;
    private final String width;
    private final String channels;
    private final StructType schema;

    private SampleColumns(String id, String label, String image, String data, String height, String width,
            String channels, StructType schema) {
        this.id = id;
        this.label = label;
        this.image = image;
        this.data = data;
        this.height = height;
        this.width = width;
        this.channels = channels;
        this.schema = schema;
    }

    /**
     * The columns of a schema under the default names: {@code id}, {@code label}, and the image as an
     * {@code image} struct when there is one, else {@code data}, {@code height}, {@code width},
     * {@code channels}.
     *
     * @param schema the DataFrame's schema
     * @return the checked columns
     * @throws InvalidInputException naming the first column that is missing or of the wrong type
     */
    public static SampleColumns of(StructType schema) {
        return of(schema, ID, LABEL);
    }

    /**
     * As {@link #of(StructType)}, with the id and label columns named.
     *
     * @param schema the DataFrame's schema
     * @param id     the id column
     * @param label  the label column
     * @return the checked columns
     * @throws InvalidInputException naming the first column that is missing or of the wrong type
     */
    public static SampleColumns of(StructType schema, String id, String label) {
        requireType(schema, id, "an integer or long id", DataTypes.IntegerType, DataTypes.LongType);
        requireType(schema, label, "an integer label", DataTypes.ByteType, DataTypes.ShortType, DataTypes.IntegerType,
                DataTypes.LongType);
        if (has(schema, IMAGE) && !has(schema, DATA)) {
            DataType t = schema.apply(IMAGE).dataType();
            if (!(t instanceof StructType s)) {
                throw new InvalidInputException("column '" + IMAGE + "' must be a struct (Spark's image schema), found "
                        + t.simpleString());
            }
            for (String f : new String[] {"height", "width", "nChannels"}) {
                requireType(s, f, IMAGE + "." + f, "an integer", DataTypes.IntegerType);
            }
            requireType(s, "data", IMAGE + ".data", "binary pixels", DataTypes.BinaryType);
            return new SampleColumns(id, label, IMAGE, "data", "height", "width", "nChannels", schema);
        }
        requireType(schema, DATA, "binary pixels (or an '" + IMAGE + "' struct of Spark's image schema)",
                DataTypes.BinaryType);
        for (String f : new String[] {"height", "width", "channels"}) {
            requireType(schema, f, "an integer", DataTypes.IntegerType);
        }
        return new SampleColumns(id, label, null, DATA, "height", "width", "channels", schema);
    }

    private static boolean has(StructType schema, String name) {
        return Arrays.asList(schema.fieldNames()).contains(name);
    }

    private static void requireType(StructType schema, String name, String what, DataType... allowed) {
        requireType(schema, name, name, what, allowed);
    }

    private static void requireType(StructType schema, String name, String shown, String what, DataType... allowed) {
        if (!has(schema, name)) {
            throw new InvalidInputException("column '" + shown + "' is missing: it must hold " + what + " (columns: "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
        DataType t = schema.apply(name).dataType();
        for (DataType a : allowed) {
            if (a.equals(t)) {
                return;
            }
        }
        throw new InvalidInputException("column '" + shown + "' has type " + t.simpleString() + "; it must hold " + what
                + " (" + String.join(" or ", Arrays.stream(allowed).map(DataType::simpleString).toList()) + ")");
    }

    /** @return the id column's name */
    public String id() {
        return id;
    }

    /** @return the label column's name */
    public String label() {
        return label;
    }

    /** @return the schema the columns were checked against */
    public StructType schema() {
        return schema;
    }

    /** @return the name under which a message names the pixels */
    String dataName() {
        return image == null ? data : image + "." + data;
    }

    /** @return the name under which a message names the height, width or channels */
    String geometryNames() {
        return image == null ? height + "/" + width + "/" + channels
                : image + "." + height + "/" + width + "/" + channels;
    }

    /**
     * The columns a census reads, in this order: id, label, height, width, channels, the pixels' byte count.
     *
     * @return the columns
     */
    Column[] censusColumns() {
        return new Column[] {functions.col(id), functions.col(label), geometry(height), geometry(width),
            geometry(channels), functions.length(pixels())};
    }

    /**
     * The columns the pixel and scoring passes read, in this order: id, label, pixels.
     *
     * @return the columns
     */
    Column[] pixelColumns() {
        return new Column[] {functions.col(id), functions.col(label), pixels()};
    }

    private Column geometry(String name) {
        return image == null ? functions.col(name) : functions.col(image).getField(name);
    }

    private Column pixels() {
        return image == null ? functions.col(data) : functions.col(image).getField(data);
    }

    /** @return the label column's type */
    DataType labelType() {
        return schema.apply(label).dataType();
    }

    /**
     * @return the NumPy dtype of the labels: the one recorded in the column's metadata by {@code convert},
     *         else the column type's signed dtype
     */
    public String labelDescr() {
        Metadata m = schema.apply(label).metadata();
        if (m.contains(DESCR_METADATA)) {
            return m.getString(DESCR_METADATA);
        }
        DataType t = labelType();
        return t.equals(DataTypes.ByteType) ? "|i1" : t.equals(DataTypes.ShortType) ? "<i2"
                : t.equals(DataTypes.IntegerType) ? "<i4" : "<i8";
    }

    /**
     * The per-sample shape of the {@code .npy} array the pixels belong in: the shape recorded by
     * {@code convert} when it matches the image size, else (H, W) for one channel and (H, W, C) otherwise.
     *
     * @param h the height
     * @param w the width
     * @param c the channels
     * @return the per-sample shape
     */
    public long[] sampleShape(int h, int w, int c) {
        StructField f = image == null ? schema.apply(data) : null;
        if (f != null && f.metadata().contains(SHAPE_METADATA)) {
            long[] s = Arrays.stream(f.metadata().getString(SHAPE_METADATA).split(",")).map(String::trim)
                    .mapToLong(Long::parseLong).toArray();
            if (Arrays.stream(s).reduce(1, (a, b) -> a * b) == (long) h * w * c && s.length >= 2 && s[0] == h
                    && s[1] == w) {
                return s;
            }
        }
        return c == 1 ? new long[] {h, w} : new long[] {h, w, c};
    }

    /**
     * The largest label the label column and its recorded dtype hold.
     *
     * @return the bound
     */
    long maxLabel() {
        String d = labelDescr().toLowerCase(Locale.ROOT);
        DataType t = labelType();
        long byType = t.equals(DataTypes.ByteType) ? Byte.MAX_VALUE : t.equals(DataTypes.ShortType) ? Short.MAX_VALUE
                : t.equals(DataTypes.IntegerType) ? Integer.MAX_VALUE : Long.MAX_VALUE;
        long byDescr = d.endsWith("u1") ? 255 : d.endsWith("i1") ? 127 : d.endsWith("i2") ? Short.MAX_VALUE
                : d.endsWith("u2") ? 65535 : d.endsWith("i4") ? Integer.MAX_VALUE : Long.MAX_VALUE;
        return Math.min(byType, byDescr);
    }

    /**
     * @param row a row of the full schema
     * @return its pixels
     */
    byte[] pixelsOf(Row row) {
        Row holder = image == null ? row : row.getStruct(row.fieldIndex(image));
        return (byte[]) holder.get(holder.fieldIndex(data));
    }

    /**
     * @param row a row of the full schema
     * @return its id
     */
    long idOf(Row row) {
        return ((Number) row.get(row.fieldIndex(id))).longValue();
    }

    /**
     * A copy of a row with new pixels, and a new label when {@code newLabel} is not null.
     *
     * @param row      a row of the full schema
     * @param pixels   the new pixels
     * @param newLabel the new label, or null to keep it
     * @return the new row
     */
    Row with(Row row, byte[] pixels, Long newLabel) {
        Object[] values = new Object[row.length()];
        for (int i = 0; i < values.length; i++) {
            values[i] = row.get(i);
        }
        if (image == null) {
            values[row.fieldIndex(data)] = pixels;
        } else {
            int at = row.fieldIndex(image);
            Row s = row.getStruct(at);
            Object[] inner = new Object[s.length()];
            for (int i = 0; i < inner.length; i++) {
                inner[i] = s.get(i);
            }
            inner[s.fieldIndex(data)] = pixels;
            values[at] = RowFactory.create(inner);
        }
        if (newLabel != null) {
            DataType t = labelType();
            long v = newLabel;
            values[row.fieldIndex(label)] = t.equals(DataTypes.ByteType) ? (Object) (byte) v
                    : t.equals(DataTypes.ShortType) ? (Object) (short) v
                    : t.equals(DataTypes.IntegerType) ? (Object) (int) v : (Object) v;
        }
        return RowFactory.create(values);
    }
}
