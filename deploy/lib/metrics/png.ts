/**
 * The chart as a PNG without dependencies: the chart model's shapes are rasterised onto an RGB
 * bitmap (no anti-aliasing, so colours stay exact and the bytes stay the same), text in the 3×5
 * pixel font, then encoded as an 8-bit truecolour PNG (RFC 2083): IHDR, one zlib IDAT, IEND.
 */
import { deflateSync } from "node:zlib";
import { chartModel, type ChartModel, type Shape, type TextSize } from "./chart-model.js";
import { chartEnvironment, type ChartRequest } from "./chart.js";
import type { DeliveryMetrics } from "./dora.js";
import { glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from "./font.js";

const SCALE: Record<TextSize, number> = { title: 3, label: 2, small: 2 };

type Rgb = [number, number, number];

const rgb = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;

export class Bitmap {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 3);
  }

  set(x: number, y: number, colour: Rgb): void {
    const xi = Math.floor(x);
    const yi = Math.floor(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    this.pixels.set(colour, (yi * this.width + xi) * 3);
  }

  fillRect(x: number, y: number, width: number, height: number, colour: Rgb): void {
    for (let yy = Math.round(y); yy < Math.round(y + height); yy++) {
      for (let xx = Math.round(x); xx < Math.round(x + width); xx++) this.set(xx, yy, colour);
    }
  }

  /** A thick segment, stamped as squares along its length (enough for 1–2 px chart lines). */
  line(x1: number, y1: number, x2: number, y2: number, width: number, colour: Rgb, dashed = false): void {
    const length = Math.hypot(x2 - x1, y2 - y1);
    const steps = Math.max(1, Math.ceil(length * 2));
    const half = width / 2;
    for (let i = 0; i <= steps; i++) {
      const along = (i / steps) * length;
      if (dashed && along % 7 >= 4) continue;
      const x = x1 + ((x2 - x1) * i) / steps;
      const y = y1 + ((y2 - y1) * i) / steps;
      this.fillRect(x - half, y - half, width, width, colour);
    }
  }

  disc(cx: number, cy: number, r: number, colour: Rgb): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) this.set(x, y, colour);
      }
    }
  }

  /** Text with its baseline at y; vertical text turns a quarter counter-clockwise about (x, y). */
  text(x: number, y: number, value: string, scale: number, anchor: "start" | "middle" | "end", colour: Rgb, vertical = false): void {
    const chars = [...value];
    const advance = (GLYPH_WIDTH + 1) * scale;
    const width = chars.length * advance - scale;
    const start = anchor === "start" ? 0 : anchor === "middle" ? -width / 2 : -width;
    chars.forEach((char, i) => {
      for (const [gx, gy] of glyph(char)) {
        // Local coordinates: u along the text, v downwards from the glyph top to the baseline.
        const u = start + i * advance + gx * scale;
        const v = -GLYPH_HEIGHT * scale + gy * scale;
        if (vertical) this.fillRect(x + v, y - u - scale, scale, scale, colour);
        else this.fillRect(x + u, y + v, scale, scale, colour);
      }
    });
  }
}

function draw(bitmap: Bitmap, shape: Shape): void {
  switch (shape.type) {
    case "rect":
      return bitmap.fillRect(shape.x, shape.y, shape.width, shape.height, rgb(shape.fill));
    case "line":
      return bitmap.line(shape.x1, shape.y1, shape.x2, shape.y2, shape.width, rgb(shape.stroke), shape.dashed);
    case "polyline":
      shape.points.slice(1).forEach(([x, y], i) => {
        const [px, py] = shape.points[i] as [number, number];
        bitmap.line(px, py, x, y, shape.width, rgb(shape.stroke));
      });
      return;
    case "circle":
      bitmap.disc(shape.cx, shape.cy, shape.r + 1, rgb(shape.stroke));
      return bitmap.disc(shape.cx, shape.cy, shape.r - 1, rgb(shape.fill));
    case "text":
      return bitmap.text(shape.x, shape.y, shape.text, SCALE[shape.size], shape.anchor, rgb(shape.fill), shape.vertical);
    case "group":
      return shape.children.forEach((c) => draw(bitmap, c));
  }
}

export function rasterise(model: ChartModel): Bitmap {
  const bitmap = new Bitmap(model.width, model.height);
  for (const shape of model.shapes) draw(bitmap, shape);
  return bitmap;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG chunks use it (ISO 3309, the same as zlib's). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  typed.copy(out, 4);
  out.writeUInt32BE(crc32(typed), 8 + data.length);
  return out;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** 8-bit RGB, no interlace; every scanline uses filter 0 (none), which deflate still squeezes well for flat charts. */
export function encodePng(bitmap: Bitmap): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(bitmap.width, 0);
  header.writeUInt32BE(bitmap.height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth, colour type RGB, deflate, adaptive filtering, no interlace
  const stride = bitmap.width * 3;
  const raw = Buffer.alloc((stride + 1) * bitmap.height);
  for (let y = 0; y < bitmap.height; y++) {
    raw[y * (stride + 1)] = 0;
    raw.set(bitmap.pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", new Uint8Array()),
  ]);
}

/** The same chart as metricsChartSvg, as PNG bytes. */
export function metricsChartPng(metrics: DeliveryMetrics, request: ChartRequest = {}): Buffer {
  const env = chartEnvironment(metrics, request.environment);
  return encodePng(rasterise(chartModel(env, metrics.period, request)));
}
