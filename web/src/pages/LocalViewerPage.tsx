import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Viewer } from '../viewer/Viewer.tsx';

/** Open a DICOM file from this computer in the viewer (nothing is uploaded). Used by the viewer tests too. */
export function LocalViewerPage() {
  const { t } = useTranslation();
  const [file, setFile] = useState<{ name: string; bytes: ArrayBuffer } | null>(null);
  return (
    <div className="card">
      <label>
        {t('viewer.openLocal')}
        <input
          type="file"
          name="local-dicom"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (f) setFile({ name: f.name, bytes: await f.arrayBuffer() });
          }}
        />
      </label>
      {file && (
        <div data-testid="local-viewer" data-name={file.name}>
          <Viewer key={file.name} bytes={file.bytes} />
        </div>
      )}
    </div>
  );
}
