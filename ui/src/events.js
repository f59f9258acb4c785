// The live event stream, /v1/events as Server-Sent Events, read with fetch():
// EventSource cannot send the Authorization header, and the token must not go into
// the URL. One stream for the whole page; pages subscribe and unsubscribe.
// Reconnects with Last-Event-ID (the server replays what was missed) and backoff.

import { session } from './api.js';

export class EventStream {
  constructor() {
    this.listeners = new Set();
    this.statusListeners = new Set();
    this.lastId = null;
    this.status = 'idle';
    this.controller = null;
    this.stopped = true;
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onStatus(fn) {
    this.statusListeners.add(fn);
    fn(this.status);
    return () => this.statusListeners.delete(fn);
  }

  setStatus(status) {
    this.status = status;
    for (const fn of this.statusListeners) fn(status);
  }

  // since: replay events after this id; null: from now on.
  start(since = null) {
    this.stop();
    this.stopped = false;
    this.lastId = since;
    this.loop();
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.setStatus('idle');
  }

  async loop() {
    let delay = 500;
    while (!this.stopped) {
      this.controller = new AbortController();
      try {
        this.setStatus('connecting');
        await this.read(this.controller.signal);
        delay = 500; // the server ended a healthy stream: reconnect soon
      } catch (error) {
        if (this.stopped) return;
        if (error && error.status === 401) {
          window.dispatchEvent(new CustomEvent('sdwan:unauthenticated'));
          return;
        }
      }
      if (this.stopped) return;
      this.setStatus('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }

  async read(signal) {
    const headers = { Accept: 'text/event-stream', ...session.headers() };
    if (this.lastId !== null) headers['Last-Event-ID'] = String(this.lastId);
    const response = await fetch('/v1/events?follow=true', {
      headers, signal, cache: 'no-store', credentials: 'omit',
    });
    if (!response.ok || !response.body) {
      const error = new Error(`event stream: HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    this.setStatus('live');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replaceAll('\r\n', '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.dispatch(frame);
      }
    }
  }

  dispatch(frame) {
    let data = '';
    let id = null;
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue; // comment: keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data += (data ? '\n' : '') + value;
      else if (field === 'id') id = value;
    }
    if (!data) return;
    const event = JSON.parse(data);
    if (id !== null) this.lastId = Number(id);
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch (error) {
        console.warn('event listener failed', error);
      }
    }
  }
}
