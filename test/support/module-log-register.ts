// `node --import <this file>`: registers module-log-hooks.ts for the process it starts in.
import { register } from 'node:module';

register('./module-log-hooks.js', import.meta.url);
