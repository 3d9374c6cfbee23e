// @ts-check
import { mkdirSync, writeFileSync } from "node:fs";

mkdirSync("generated", { recursive: true });
writeFileSync("generated/performance-results.md", "Figures pending.\n");
