// The weekly trend chart. Only the pieces of Chart.js it uses are registered, so the rest is
// left out of the bundle. Chart.js draws on a canvas and sets no inline style the CSP forbids.

import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";
import { money, type Lang } from "./format";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

/** Colours with at least 3:1 contrast on white, told apart by dash patterns as well. */
const COLOURS = ["#1d5fa8", "#b3261e", "#146e46", "#7a4cb3", "#8a5a00", "#0f6f7a", "#a1366f", "#4a5563"];
const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3], [], [6, 4], [2, 3], [10, 3, 2, 3]];

export interface TrendSeries {
  label: string;
  cents: number[];
}

export function drawTrend(canvas: HTMLCanvasElement, weeks: string[], series: TrendSeries[], lang: Lang): Chart {
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: weeks,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.cents.map((c) => c / 100),
        borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length],
        borderDash: DASHES[i % DASHES.length],
        borderWidth: 2,
        pointRadius: 3,
        tension: 0.2,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      locale: lang === "fr" ? "fr-CA" : "en-CA",
      plugins: {
        legend: { position: "bottom", labels: { color: "#1b2430" } },
        tooltip: {
          callbacks: { label: (item) => `${item.dataset.label}: ${money(Math.round((item.parsed.y ?? 0) * 100), lang)}` },
        },
      },
      scales: {
        x: { ticks: { color: "#1b2430" } },
        y: {
          beginAtZero: true,
          ticks: { color: "#1b2430", callback: (value) => money(Math.round(Number(value) * 100), lang).replace(/[.,]00(?=\D*$)/, "") },
        },
      },
    },
  });
}
