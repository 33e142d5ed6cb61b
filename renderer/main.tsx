/** The console's entry point: takes the access token from the link, then renders the app. */
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { adoptTokenFromUrl } from './api/token.js';
import { applyTheme, storedTheme } from './common/theme.js';
import './styles/app.css';

adoptTokenFromUrl();
applyTheme(storedTheme());
createRoot(document.getElementById('root')!).render(<App />);
