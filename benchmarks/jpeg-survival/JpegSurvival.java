import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.image.ImageEncoder;
import dev.dyepack.image.ImageHeader;
import dev.dyepack.image.Images;
import dev.dyepack.image.TriggerSurvival;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Which triggers survive JPEG: Fashion-MNIST test images saved as JPEG at a source quality, stamped, written
 * back the way `dyepack poison` writes a stamped JPEG (ImageEncoder, the source's own tables) and decoded
 * again; prints the pooled share of the trigger's L2 energy that survived (TriggerSurvival) per family and
 * quality, as a Markdown table.
 *
 * Run: java -cp cli/target/dyepack.jar benchmarks/jpeg-survival/JpegSurvival.java [N] [fashion-mnist dir]
 */
public class JpegSurvival {
    static byte[] jpeg(byte[] px, int w, int h, int channels, int quality) throws Exception {
        BufferedImage img = new BufferedImage(w, h, channels == 1 ? BufferedImage.TYPE_BYTE_GRAY
                : BufferedImage.TYPE_3BYTE_BGR);
        byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < px.length; i += channels) {
            for (int c = 0; c < channels; c++) {
                data[i + c] = px[i + channels - 1 - c];
            }
        }
        ImageWriter wr = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam p = wr.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality / 100f);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream o = new MemoryCacheImageOutputStream(out)) {
            wr.setOutput(o);
            wr.write(null, new IIOImage(img, null, null), p);
        }
        return out.toByteArray();
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        Path dir = Path.of(args.length > 1 ? args[1] : "/usr/share/datasets/fashion-mnist");
        byte[] gray = new byte[n * 784];
        try (Samples.Reader r = Samples.open(dir.resolve("t10k-images-idx3-ubyte.gz"))) {
            ByteBuffer b = ByteBuffer.wrap(gray);
            r.readSamples(0, n, b);
        }
        List<String> specs = List.of("patch:size=3,pos=br,value=255", "patch:size=4,pattern=checker,pos=br",
                "blend:alpha=0.1,pattern=noise", "blend:alpha=0.2,pattern=noise", "blend:alpha=0.3,pattern=noise",
                "sig:delta=20,freq=6", "lowfreq:amp=8,freqs=1x2+2x1", "warp:k=4,s=0.5", "noise:eps=8",
                "noise:eps=16");
        int[] qualities = {50, 75, 90, 95};
        OwnerKey key = new OwnerKey("jpeg survival study key, 32 bytes".getBytes(StandardCharsets.UTF_8));
        for (int channels : new int[] {1, 3}) {
            // Colour: three Fashion-MNIST images as R, G and B (a synthetic colour set with 4:2:0 chroma).
            int w = 28;
            int h = 28;
            int per = w * h * channels;
            byte[] images = new byte[n * per];
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < 784; p++) {
                    for (int c = 0; c < channels; c++) {
                        images[i * per + p * channels + c] = gray[((i + c * 97) % n) * 784 + p];
                    }
                }
            }
            System.out.println();
            System.out.printf(Locale.ROOT, "%d Fashion-MNIST test images, 28x28, %s JPEG; share of the trigger's L2 "
                    + "energy left after writing the stamped image at the source's tables and decoding it%n%n", n,
                    channels == 1 ? "gray" : "colour (R, G, B from three images)");
            StringBuilder head = new StringBuilder("| trigger |");
            StringBuilder rule = new StringBuilder("|---|");
            for (int q : qualities) {
                head.append(" q").append(q).append(" |");
                rule.append("---|");
            }
            System.out.println(head);
            System.out.println(rule);
            try (Engine engine = Engine.open()) {
                for (String spec : specs) {
                    StringBuilder row = new StringBuilder("| `" + spec + "` |");
                    for (int q : qualities) {
                        TriggerSurvival s = new TriggerSurvival();
                        byte[][] sources = new byte[n][];
                        ByteBuffer batch = ByteBuffer.allocateDirect(n * per);
                        byte[][] clean = new byte[n][];
                        for (int i = 0; i < n; i++) {
                            byte[] px = java.util.Arrays.copyOfRange(images, i * per, (i + 1) * per);
                            sources[i] = jpeg(px, w, h, channels, q);
                            clean[i] = Images.decodeUint8(sources[i], "img" + i, channels, w, h);
                            batch.put(clean[i]);
                        }
                        batch.flip();
                        Tensor t = Tensor.of(batch, Layout.NHWC, n, channels, h, w);
                        TriggerSpec ts = TriggerSpec.parse(spec);
                        try (PreparedTrigger pt = ts.prepare(engine, t, TriggerContext.of(key))) {
                            pt.apply(t, null, 0);
                        }
                        for (int i = 0; i < n; i++) {
                            byte[] intended = new byte[per];
                            batch.get(i * per, intended);
                            ImageHeader hd = ImageHeader.parse(sources[i], "img" + i);
                            ImageEncoder.Encoded e = ImageEncoder.encode(sources[i], "img" + i, hd, clean[i], intended,
                                    channels, ImageEncoder.Target.KEEP);
                            s.add(clean[i], intended, Images.decodeUint8(e.bytes(), "out" + i, channels, w, h));
                        }
                        row.append(String.format(Locale.ROOT, " %.0f%% |", 100 * s.retained()));
                    }
                    System.out.println(row);
                }
            }
        }
    }
}
