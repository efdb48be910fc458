import { loadCjkFont } from '../shared/reports/font.ts';
import { PdfReportRenderer } from '../shared/reports/pdf.ts';
import { makeApiHandler, oidcConfigFrom } from './api.ts';
import { composeAws } from './compose.ts';
import { loadAwsConfig } from './config.ts';
import { fetchFontFile } from './font.ts';

// Module scope: config, clients, adapters and the report font once per cold start.
const cfg = loadAwsConfig(process.env);
const system = await composeAws(cfg, 'api', {
  renderer: async (s3) => {
    const fontFile = await fetchFontFile(s3, cfg.TELEREAD_UPLOADS_BUCKET, cfg.TELEREAD_FONT_KEY, '/tmp/teleread-fonts/NotoSansCJKsc-Regular.otf');
    return new PdfReportRenderer({
      font: () => {
        if (!fontFile) throw new Error(`the report font is missing: put it at s3://${cfg.TELEREAD_UPLOADS_BUCKET}/${cfg.TELEREAD_FONT_KEY}`);
        return loadCjkFont({ fontFile });
      },
    });
  },
});
export const handler = makeApiHandler(system.deps, system.tokens, { objectUrl: system.objectUrl, oidcConfig: oidcConfigFrom(cfg) });
