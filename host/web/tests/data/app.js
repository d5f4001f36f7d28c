// A module for the asset tests: long enough for gzip to pay, with the shapes the UI has.
import { h } from './lib/dom.js';

export default {
  title: 'Test',
  async render(root, route, ctx) {
    root.append(h('section', { 'data-tile': 'targets', 'data-status': 'ok' }, 'Targets: all up'));
    root.append(h('section', { 'data-tile': 'alerts', 'data-status': 'ok' }, 'Alerts: none firing'));
    root.append(h('section', { 'data-tile': 'rules', 'data-status': 'ok' }, 'Rules: all healthy'));
    root.append(h('section', { 'data-tile': 'storage', 'data-status': 'ok' }, 'Storage: fine'));
    return () => {};
  },
};
