// The number of firing alerts, for the navigation's badge: read from the API when the
// dashboard starts, and again shortly after each `alert.*` event of the stream (the
// count of the caller's projects, as GET /v1/alerts?state=firing says it).

import { api } from './api.js';
import { debounce } from './dom.js';

export class FiringAlerts {
  constructor(stream) {
    this.stream = stream;
    this.count = null; // unknown until read
    this.listeners = new Set();
    this.unsubscribe = null;
    this.refresh = debounce(() => this.read(), 300);
  }

  onChange(fn) {
    this.listeners.add(fn);
    fn(this.count);
    return () => this.listeners.delete(fn);
  }

  start() {
    this.stop();
    this.unsubscribe = this.stream.subscribe((e) => {
      if (e.resource_type === 'alert' && e.kind.startsWith('alert.')) this.refresh();
    });
    this.read();
  }

  stop() {
    this.refresh.cancel();
    if (this.unsubscribe) this.unsubscribe();
    this.unsubscribe = null;
    this.set(null);
  }

  async read() {
    try {
      const page = await api.get('/v1/alerts', { state: 'firing', limit: 1 });
      if (this.unsubscribe) this.set(page.total);
    } catch {
      // a refused token logs out (api.js); anything else: keep the last count
    }
  }

  set(count) {
    this.count = count;
    for (const fn of this.listeners) fn(count);
  }
}
