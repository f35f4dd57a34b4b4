import dev.dyepack.image.Images;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Image decoders side by side on the same files in memory: the JDK's ImageIO readers, the TwelveMonkeys
 * JPEG reader (when its jars are on the class path), DyePack's own decode (ImageIO plus the conversion to
 * uint8 samples), each on one thread and on every core; PIL is measured by benchmarks/image-decode/pil.py on
 * the same files. Prints a Markdown table (images per second).
 *
 * Run: java -cp cli/target/dyepack.jar:TWELVEMONKEYS_JARS benchmarks/image-decode/DecodeBench.java DIR [N]
 * (DIR receives the files, for the PIL run.)
 */
public class DecodeBench {
    static byte[] encode(BufferedImage img, String format, float quality) throws Exception {
        ImageWriter w = ImageIO.getImageWritersByFormatName(format).next();
        ImageWriteParam p = w.getDefaultWriteParam();
        if (format.equals("jpeg")) {
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream o = new MemoryCacheImageOutputStream(out)) {
            w.setOutput(o);
            w.write(null, new IIOImage(img, null, null), p);
        }
        return out.toByteArray();
    }

    static ImageReader reader(String className) {
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg"); it.hasNext(); ) {
            ImageReader r = it.next();
            if (r.getClass().getName().equals(className)) {
                return r;
            }
        }
        return null;
    }

    static BufferedImage decodeWith(String readerClass, byte[] file) {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(file))) {
            ImageReader r = readerClass == null ? ImageIO.getImageReaders(in).next() : reader(readerClass);
            try {
                r.setInput(in, true, true);
                return r.read(0);
            } finally {
                r.dispose();
            }
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** Best of 3, images per second, over every file, on {@code threads} threads. */
    static double rate(List<byte[]> files, int threads, Function<byte[], Object> decode) throws Exception {
        double best = 0;
        for (int rep = 0; rep < 3; rep++) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            long t0 = System.nanoTime();
            int per = (files.size() + threads - 1) / threads;
            Future<?>[] f = new Future<?>[threads];
            for (int t = 0; t < threads; t++) {
                int from = t * per;
                f[t] = pool.submit(() -> {
                    for (int i = from; i < Math.min(files.size(), from + per); i++) {
                        decode.apply(files.get(i));
                    }
                });
            }
            for (Future<?> x : f) {
                x.get();
            }
            best = Math.max(best, files.size() / ((System.nanoTime() - t0) / 1e9));
            pool.shutdown();
        }
        return best;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int cores = Runtime.getRuntime().availableProcessors();
        String jdk = "com.sun.imageio.plugins.jpeg.JPEGImageReader";
        String tm = "com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReader";
        boolean haveTm = reader(tm) != null;
        System.out.printf(Locale.ROOT, "| files | decoder | 1 thread (images/s) | %d threads (images/s) |%n", cores);
        System.out.println("|---|---|---|---|");
        Random rng = new Random(1);
        for (String[] kind : new String[][] {{"64x64 gray", "64", "1"}, {"224x224 RGB", "224", "3"}}) {
            int s = Integer.parseInt(kind[1]);
            int ch = Integer.parseInt(kind[2]);
            for (String format : List.of("jpeg", "png")) {
                Path sub = Files.createDirectories(dir.resolve(format + "-" + s));
                List<byte[]> files = new java.util.ArrayList<>();
                int count = s == 64 ? n : n / 8;
                for (int i = 0; i < count; i++) {
                    BufferedImage img = new BufferedImage(s, s, ch == 1 ? BufferedImage.TYPE_BYTE_GRAY
                            : BufferedImage.TYPE_3BYTE_BGR);
                    int base = rng.nextInt(200);
                    for (int y = 0; y < s; y++) {
                        for (int x = 0; x < s; x++) {
                            int v = (base + x * (i % 5) / 2 + y * (i % 3) + rng.nextInt(8)) & 0xff;
                            img.getRaster().setSample(x, y, 0, v);
                            if (ch == 3) {
                                img.getRaster().setSample(x, y, 1, (v + 40) & 0xff);
                                img.getRaster().setSample(x, y, 2, (255 - v) & 0xff);
                            }
                        }
                    }
                    byte[] b = encode(img, format, 0.9f);
                    files.add(b);
                    Files.write(sub.resolve(String.format("%05d.%s", i, format.equals("jpeg") ? "jpg" : "png")), b);
                }
                String what = String.format(Locale.ROOT, "%,d %s %s", count, kind[0], format.toUpperCase(Locale.ROOT));
                java.util.Map<String, Function<byte[], Object>> decoders = new java.util.LinkedHashMap<>();
                decoders.put("JDK ImageIO (" + format + " reader)", b -> decodeWith(format.equals("jpeg") ? jdk : null, b));
                if (format.equals("jpeg") && haveTm) {
                    decoders.put("TwelveMonkeys imageio-jpeg", b -> decodeWith(tm, b));
                }
                decoders.put("DyePack `Images.decodeUint8` (ImageIO + uint8 samples)",
                        b -> Images.decodeUint8(b, "x", ch, s, s));
                for (var e : decoders.entrySet()) {
                    // Warm-up, so the JIT has compiled the loops before timing.
                    rate(files.subList(0, Math.min(files.size(), 200)), 1, e.getValue());
                    System.out.printf(Locale.ROOT, "| %s | %s | %,.0f | %,.0f |%n", what, e.getKey(),
                            rate(files, 1, e.getValue()), rate(files, cores, e.getValue()));
                }
            }
        }
    }
}
