/** PNG charts drawn with pureimage (pure JS, no native deps). Text needs a TTF; without one, charts have no labels. */
import { createWriteStream, existsSync } from 'node:fs';
import * as PImage from 'pureimage';

const FONT_PATHS = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans.ttf'];
let fontReady: Promise<boolean> | undefined;

function loadFont(): Promise<boolean> {
  fontReady ??= (async () => {
    const file = FONT_PATHS.find((p) => existsSync(p));
    if (!file) return false;
    try {
      await PImage.registerFont(file, 'BenchSans').load();
      return true;
    } catch {
      return false;
    }
  })();
  return fontReady;
}

type Ctx2D = ReturnType<ReturnType<typeof PImage.make>['getContext']>;

async function save(img: ReturnType<typeof PImage.make>, file: string): Promise<void> {
  await PImage.encodePNGToStream(img, createWriteStream(file));
}

function text(ctx: Ctx2D, hasFont: boolean, s: string, x: number, y: number, size = 13, color = '#222222'): void {
  if (!hasFont) return;
  ctx.fillStyle = color;
  ctx.font = `${size}px BenchSans`;
  ctx.fillText(s, x, y);
}

export interface BarRow {
  label: string;
  floor?: number;
  berth: number;
  /** Optional p99 ticks. */
  floorP99?: number;
  berthP99?: number;
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Horizontal bars: grey = raw Docker floor, blue = berth (p50), thin marks at p99. */
export async function barChart(file: string, title: string, unit: string, rows: BarRow[]): Promise<void> {
  const hasFont = await loadFont();
  const labelW = 330;
  const plotW = 520;
  const rowH = 46;
  const width = labelW + plotW + 110;
  const height = 70 + rows.length * rowH + 30;
  const img = PImage.make(width, height);
  const ctx = img.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  text(ctx, hasFont, title, 12, 24, 16);
  ctx.fillStyle = '#9e9e9e';
  ctx.fillRect(12, 36, 14, 10);
  text(ctx, hasFont, 'raw Docker floor (p50)', 30, 46, 12);
  ctx.fillStyle = '#1f6fd1';
  ctx.fillRect(200, 36, 14, 10);
  text(ctx, hasFont, `berth (p50); ticks = p99; unit ${unit}`, 218, 46, 12);
  const max = Math.max(1e-9, ...rows.flatMap((r) => [r.floor ?? 0, r.berth, r.floorP99 ?? 0, r.berthP99 ?? 0]));
  const scale = (v: number) => Math.max(1, (v / max) * plotW);
  rows.forEach((row, i) => {
    const y = 62 + i * rowH;
    text(ctx, hasFont, row.label.length > 46 ? `${row.label.slice(0, 45)}…` : row.label, 12, y + 26, 12);
    const x0 = labelW;
    /** One bar (p50) with its value, and a tick at p99 when known; `top` is the bar's top edge. */
    const bar = (value: number, p99: number | undefined, top: number, color: string, tickColor: string) => {
      ctx.fillStyle = color;
      ctx.fillRect(x0, top, scale(value), 16);
      text(ctx, hasFont, fmt(value), x0 + scale(value) + 4, top + 13, 11);
      if (p99 !== undefined) {
        ctx.fillStyle = tickColor;
        ctx.fillRect(x0 + scale(p99) - 1, top - 2, 2, 20);
      }
    };
    if (row.floor !== undefined) bar(row.floor, row.floorP99, y + 4, '#9e9e9e', '#555555');
    bar(row.berth, row.berthP99, y + 22, '#1f6fd1', '#0b3a75');
  });
  await save(img, file);
}

/** A histogram of values (e.g. timer lateness in ms). */
export async function histogram(file: string, title: string, unit: string, values: number[], bins = 30): Promise<void> {
  const hasFont = await loadFont();
  const width = 900;
  const height = 360;
  const img = PImage.make(width, height);
  const ctx = img.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  text(ctx, hasFont, title, 12, 24, 16);
  if (values.length === 0) {
    text(ctx, hasFont, 'no data', 12, 60);
    await save(img, file);
    return;
  }
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values, lo + 1);
  const width1 = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width1))]! += 1;
  const maxCount = Math.max(...counts);
  const plotX = 60;
  const plotY = 50;
  const plotW = width - 90;
  const plotH = height - 110;
  const barW = plotW / bins;
  counts.forEach((c, i) => {
    const h = (c / maxCount) * plotH;
    ctx.fillStyle = '#1f6fd1';
    ctx.fillRect(plotX + i * barW + 1, plotY + plotH - h, Math.max(1, barW - 2), h);
  });
  ctx.fillStyle = '#333333';
  ctx.fillRect(plotX, plotY + plotH, plotW, 1);
  for (let t = 0; t <= 5; t++) {
    const v = lo + ((hi - lo) * t) / 5;
    text(ctx, hasFont, `${fmt(v)}`, plotX + (plotW * t) / 5 - 10, plotY + plotH + 18, 11);
  }
  text(ctx, hasFont, `${unit}; n = ${values.length}; tallest bar = ${maxCount}`, plotX, height - 16, 12);
  await save(img, file);
}
