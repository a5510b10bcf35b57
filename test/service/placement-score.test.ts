/** Placement's choice (pure): least loaded healthy host, drained and silent hosts skipped, image present preferred. */
import { describe, expect, it } from 'vitest';
import { pickHost, placementScore, type Reservation } from '../../src/service/placement-score.js';
import type { HostView } from '../../src/service/placement.js';

const IMAGE = 'berth/busybox:1';
const small = { cpu: 1, memoryMB: 512 };

function host(name: string, overrides: Partial<HostView> = {}): HostView {
  return {
    host: name,
    healthy: true,
    drained: false,
    lost: false,
    engineID: `engine-${name}`,
    lastSeenAt: '2026-12-01T00:00:00.000Z',
    capacity: { cpus: 4, memoryMB: 8192 },
    load: { sandboxes: 0, cpu: 0, memoryMB: 0 },
    images: [IMAGE],
    ...overrides,
  };
}
const pick = (hosts: HostView[], reservations: Reservation[] = [], image = IMAGE) => pickHost(hosts, { image, resources: small }, reservations)?.host;

describe('placement score', () => {
  it('is the larger of CPU and memory committed against capacity after this sandbox', () => {
    expect(placementScore(host('a', { load: { sandboxes: 1, cpu: 1, memoryMB: 512 } }), small, [])).toBeCloseTo(0.5, 5); // cpu 2/4 vs memory 1024/8192
    expect(placementScore(host('a', { load: { sandboxes: 1, cpu: 0, memoryMB: 6144 } }), small, [])).toBeCloseTo(6656 / 8192, 5); // memory dominates
  });

  it('counts creates in flight on that host only', () => {
    const a = host('a');
    const inFlight: Reservation[] = [{ host: 'a', resources: { cpu: 2, memoryMB: 512 } }, { host: 'b', resources: { cpu: 4, memoryMB: 8192 } }];
    expect(placementScore(a, small, inFlight)).toBeGreaterThan(placementScore(a, small, []));
    expect(placementScore(a, small, inFlight)).toBeCloseTo(3 / 4, 5);
  });
});

describe('pickHost', () => {
  it('takes the least loaded healthy host, relative to its capacity', () => {
    const busy = host('a', { load: { sandboxes: 3, cpu: 3, memoryMB: 1536 } });
    const idle = host('b', { load: { sandboxes: 1, cpu: 1, memoryMB: 512 } });
    expect(pick([busy, idle])).toBe('b');
    // A bigger host with more sandboxes can still be the less loaded one.
    const big = host('c', { capacity: { cpus: 32, memoryMB: 65536 }, load: { sandboxes: 8, cpu: 8, memoryMB: 4096 } });
    expect(pick([idle, big])).toBe('c');
  });

  it('never picks a drained, silent or lost host; none usable is undefined', () => {
    const drained = host('a', { drained: true });
    const silent = host('b', { healthy: false });
    const lost = host('c', { healthy: false, lost: true });
    const loaded = host('d', { load: { sandboxes: 7, cpu: 3.5, memoryMB: 7000 } });
    expect(pick([drained, silent, lost, loaded])).toBe('d');
    expect(pick([drained, silent, lost])).toBeUndefined();
  });

  it('prefers a host that has the image, even a busier one; any usable host when none has it', () => {
    const withImage = host('a', { load: { sandboxes: 3, cpu: 3, memoryMB: 3000 } });
    const without = host('b', { images: [] });
    expect(pick([withImage, without])).toBe('a');
    expect(pick([withImage, without], [], 'berth/not-anywhere:1')).toBe('b');
  });

  it('spreads creates in flight: a reservation moves the next sandbox elsewhere', () => {
    expect(pick([host('a'), host('b')])).toBe('a'); // equal: by name
    expect(pick([host('a'), host('b')], [{ host: 'a', resources: small }])).toBe('b');
  });

  it('breaks ties by the fewest sandboxes, then by name', () => {
    const many = host('a', { load: { sandboxes: 4, cpu: 1, memoryMB: 1024 } });
    const few = host('b', { load: { sandboxes: 1, cpu: 1, memoryMB: 1024 } });
    expect(pick([many, few])).toBe('b');
    expect(pick([host('b'), host('a')])).toBe('a');
  });
});
