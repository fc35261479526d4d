// Stand-alone entry: `<script type="module" src="/chatkit-….js">` defines <chatkit-chat> for
// pages that want the element without the task board app.
export { ChatKitChat } from './element.js';
export { ChatKitError } from './api.js';
