import { render } from 'preact';
import '../../portal/src/style.css';
import { App } from './app';
import './style.css';

render(<App />, document.getElementById('app')!);
