import { defineConfigWithVueTs, vueTsConfigs } from '@vue/eslint-config-typescript'
import skipFormatting from 'eslint-config-prettier/flat'
import pluginVue from 'eslint-plugin-vue'
import { globalIgnores } from 'eslint/config'

export default defineConfigWithVueTs(
  {
    name: 'app/files-to-lint',
    files: ['**/*.{vue,ts,mts,tsx}'],
  },

  globalIgnores(['**/dist/**', '**/dist-ssr/**', '**/coverage/**']),

  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommended,

  {
    name: 'app/rules',
    rules: {
      // The production Content-Security-Policy has no 'unsafe-inline' for styles.
      'vue/no-restricted-static-attribute': ['error', 'style'],
      'vue/no-restricted-v-bind': ['error', 'style'],
    },
  },

  // Formatting is Prettier's job (`npm run format:check`).
  skipFormatting,
)
