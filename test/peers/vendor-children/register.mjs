import { register } from 'node:module';

register('./record-hooks.mjs', import.meta.url);
