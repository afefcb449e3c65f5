/**
 * The dashboard's three static files. The bundle carries them (scripts/build.mjs defines
 * BOSUN_DASHBOARD_ASSETS at build time, as it does the version); from source they are read from
 * src/api/dashboard/. No asset ever comes from the internet.
 */
import { readFile } from 'node:fs/promises';

export interface DashboardAssets {
  html: string;
  js: string;
  css: string;
}

export async function loadDashboardAssets(): Promise<DashboardAssets> {
  const built = process.env.BOSUN_DASHBOARD_ASSETS;
  if (built !== undefined) return JSON.parse(built) as DashboardAssets;
  const read = (name: string): Promise<string> =>
    readFile(new URL(`./dashboard/${name}`, import.meta.url), 'utf8');
  const [html, js, css] = await Promise.all([
    read('index.html'),
    read('dashboard.js'),
    read('dashboard.css'),
  ]);
  return { html, js, css };
}
