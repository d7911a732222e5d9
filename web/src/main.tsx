import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadRuntimeConfig } from './config.ts';
import './styles.css';

const root = document.getElementById('root');
if (root) {
  const app = createRoot(root);
  loadRuntimeConfig().then(
    (config) => {
      app.render(
        <StrictMode>
          <App config={config} />
        </StrictMode>,
      );
    },
    (error: unknown) => {
      app.render(
        <main className="page">
          <h1>Rein review console</h1>
          <p role="alert">{error instanceof Error ? error.message : 'The console could not start.'}</p>
        </main>,
      );
    },
  );
}
