import { describe, expect, it } from "vitest";
import { counterBy, formatTable, infoField, keyKind, summarize } from "./scale-figures.ts";

describe("keyKind", () => {
  const prefix = "bench-1a2b3c4d:";

  it("names the product's key layouts under the prefix", () => {
    expect(keyKind(`${prefix}sess:Xy-1`, prefix)).toBe("session");
    expect(keyKind(`${prefix}cache:community:bench-club`, prefix)).toBe("cache community");
    expect(keyKind(`${prefix}cache:memberRole:c1:u1`, prefix)).toBe("cache memberRole");
    expect(keyKind(`${prefix}rl:per-user:60000000:0b7c`, prefix)).toBe("rate limit per-user");
    expect(keyKind(`${prefix}rl:per-ip:12000000:198.18.0.1`, prefix)).toBe("rate limit per-ip");
  });

  it("keeps another layout's first segment, and tells keys of another prefix apart", () => {
    expect(keyKind(`${prefix}something:else`, prefix)).toBe("something");
    expect(keyKind("bench-ffffffff:sess:Xy-1", prefix)).toBe("not the run's");
  });
});

describe("summarize", () => {
  it("gives the count, mean and extremes", () => {
    expect(summarize([360, 360, 420])).toEqual({ count: 3, mean: 380, min: 360, max: 420 });
  });

  it("has no mean of nothing", () => {
    expect(summarize([]).count).toBe(0);
    expect(summarize([]).mean).toBeNaN();
  });
});

describe("infoField", () => {
  const info = "# Memory\r\nused_memory:939488\r\nused_memory_human:917.47K\r\nused_memory_rss:6971392\r\n";

  it("reads a numeric field of INFO's text, not one that only starts the same", () => {
    expect(infoField(info, "used_memory")).toBe(939_488);
    expect(infoField(info, "used_memory_rss")).toBe(6_971_392);
  });

  it("throws on a missing field", () => {
    expect(() => infoField(info, "used_cpu_user")).toThrow(/used_cpu_user/);
  });
});

describe("formatTable", () => {
  it("aligns the first column left and the others right", () => {
    expect(
      formatTable(
        ["kind", "bytes"],
        [
          ["session", "360"],
          ["cache community", "1,024"],
        ],
      ).split("\n"),
    ).toEqual(["kind             bytes", "---------------  -----", "session            360", "cache community  1,024"]);
  });
});

describe("counterBy", () => {
  const text = [
    "# HELP cache_operations_total Cache reads by cache name and result (hit, miss, stale)",
    "# TYPE cache_operations_total counter",
    'cache_operations_total{cache="community",result="hit",role="web",pid="11"} 90',
    'cache_operations_total{cache="community",result="hit",role="web",pid="12"} 80',
    'cache_operations_total{cache="community",result="miss",role="web",pid="11"} 7',
    'cache_operations_total{cache="plans",result="hit",role="web",pid="11"} 1000',
    'cache_operations_total_other{cache="community",result="hit"} 5',
  ].join("\n");

  it("sums the series of one counter whose labels match, by a label's value", () => {
    expect(counterBy(text, "cache_operations_total", { cache: "community" }, "result")).toEqual({ hit: 170, miss: 7 });
  });

  it("gives nothing for a counter that is not there", () => {
    expect(counterBy(text, "job_failures_total", {}, "task")).toEqual({});
  });
});
